// The one place Vigil includes SQLite (Debian libsqlite3-dev).
#ifndef VIGIL_CSQLITE_SHIM_H
#define VIGIL_CSQLITE_SHIM_H
#include <sqlite3.h>
#endif
