import Ingest
import Platform

await ServiceMain.run(service: .ingest, configuration: IngestConfiguration.read, application: buildApplication)
