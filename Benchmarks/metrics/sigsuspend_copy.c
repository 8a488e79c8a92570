// LD_PRELOAD shim for measuring axond under valgrind 3.19 (Debian 12), nothing else.
//
// When the async main returns the main thread to libdispatch, libdispatch parks it in
// sigsuspend() with a mask that lives in read-only memory. Valgrind 3.19 edits that mask in
// place (to keep its own signals deliverable) and dies with an internal SIGSEGV. Passing a
// writable copy instead changes nothing for the program.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <signal.h>

int sigsuspend(const sigset_t *mask) {
    static int (*real)(const sigset_t *);
    if (!real) real = (int (*)(const sigset_t *))dlsym(RTLD_NEXT, "sigsuspend");
    sigset_t copy = *mask;
    return real(&copy);
}
