/* Test support: one arena for a test runner's whole group (the text parsers allocate in it), made
 * by arena_setup and freed by arena_teardown: pass them to cmocka_run_group_tests. */
#ifndef SG_TEST_ARENA_FIXTURE_H
#define SG_TEST_ARENA_FIXTURE_H

#include "util/arena.h"

static struct sg_arena *arena;

static inline int arena_setup(void **state)
{
    arena = sg__arena_new(0);
    return arena ? 0 : -1;
}

static inline int arena_teardown(void **state)
{
    sg__arena_free(arena);
    return 0;
}

#endif
