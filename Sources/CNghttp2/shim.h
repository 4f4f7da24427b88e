// The one place Vigil includes nghttp2. Vigil is written against the 1.52 API (Debian 12):
// nghttp2_session_mem_recv/mem_send and nghttp2_data_provider, not the *2 variants of 1.60+.
#ifndef VIGIL_CNGHTTP2_SHIM_H
#define VIGIL_CNGHTTP2_SHIM_H

#include <nghttp2/nghttp2.h>

#if NGHTTP2_VERSION_NUM < 0x013400
#error "Vigil needs libnghttp2 1.52 or newer"
#endif

#endif
