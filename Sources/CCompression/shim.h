#include <snappy-c.h>
#include <zstd.h>
#include <lz4.h>
#include <zlib.h>
