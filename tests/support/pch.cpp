// The target the test binaries' shared precompiled header is built with (tests/CMakeLists.txt).
