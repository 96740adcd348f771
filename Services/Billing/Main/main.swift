import Billing
import Platform

await ServiceMain.run(service: .billing, configuration: BillingConfiguration.read, application: buildApplication)
