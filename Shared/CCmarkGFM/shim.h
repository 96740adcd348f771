// cmark-gfm, GitHub's CommonMark parser (Debian: libcmark-gfm-dev, libcmark-gfm-extensions-dev),
// for Ingest's Markdown extraction.
#include <cmark-gfm/cmark-gfm.h>
#include <cmark-gfm-core-extensions.h>
