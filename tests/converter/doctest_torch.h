// Include after LibTorch headers: glog (pulled in by LibTorch) defines CHECK, CHECK_EQ, ... which
// would silently replace doctest's assertions with aborting ones.
#pragma once

#undef CHECK
#undef CHECK_EQ
#undef CHECK_NE
#undef CHECK_LT
#undef CHECK_LE
#undef CHECK_GT
#undef CHECK_GE
#undef CHECK_NOTNULL
#include <doctest/doctest.h>
