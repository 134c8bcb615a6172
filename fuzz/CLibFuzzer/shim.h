// libFuzzer's driver, for a program that has a main of its own (the toolchain's
// libclang_rt.fuzzer_no_main archive): it parses libFuzzer's flags and runs `callback` on each input.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
