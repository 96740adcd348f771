#ifndef CONTEXO_CHIREDIS_SHIM_H
#define CONTEXO_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
