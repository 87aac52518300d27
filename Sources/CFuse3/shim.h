// libfuse3's low-level API, at the API version NetStoreFUSE is written against.
#ifndef NETSTORE_CFUSE3_SHIM_H
#define NETSTORE_CFUSE3_SHIM_H
#define FUSE_USE_VERSION 35
#include <fuse.h>
#include <fuse_lowlevel.h>
#endif
