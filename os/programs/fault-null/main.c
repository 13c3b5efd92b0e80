/* fault-null — dereferences a null pointer (a page fault at address 0). Used by usertests to
 * check that the supervisor hears "page fault at 0x0" naming this process and that the rest
 * of the system keeps running. */
#include <lanes.h>
#include <stdio.h>

int main(void)
{
    uintptr_t addr = 0;
    __asm__ volatile("" : "+r"(addr));   /* hide the null from the optimiser */
    printf("fault-null: writing to address 0\n");
    *(volatile int *)addr = 42;
    printf("fault-null: survived a null write!\n");
    return 0;
}
