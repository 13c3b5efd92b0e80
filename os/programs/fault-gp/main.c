/* fault-gp — reads through a non-canonical address, a general-protection fault (#GP, 13).
 * With the argument "hlt" it executes the privileged hlt instruction instead (also #GP). */
#include <lanes.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "hlt") == 0) {
        printf("fault-gp: executing hlt in user mode\n");
        __asm__ volatile("hlt");
    } else {
        uintptr_t addr = 0x8000000000000000ull;
        __asm__ volatile("" : "+r"(addr));
        printf("fault-gp: reading non-canonical address %p\n", (void *)addr);
        (void)*(volatile uint64_t *)addr;
    }
    printf("fault-gp: survived!\n");
    return 0;
}
