/*
 * The source commit compiled into the binary, for axon_build_info{commit}.
 *
 * Swift's -D defines carry no values and SwiftPM has no stamping step, so `make` writes the
 * commit into .build/axon-build-commit.h (ignored by git) before building and touches this file
 * when the commit changes. A plain `swift build` without that header compiles "unknown".
 */
#include "CHTTPShim.h"

#if __has_include("../../.build/axon-build-commit.h")
#include "../../.build/axon-build-commit.h"
#endif

#ifndef AXON_BUILD_COMMIT
#define AXON_BUILD_COMMIT "unknown"
#endif

const char *hs_build_commit(void) { return AXON_BUILD_COMMIT; }
