/* fault-ud — executes ud2, an illegal instruction (#UD, vector 6). */
#include <lanes.h>
#include <stdio.h>

int main(void)
{
    printf("fault-ud: executing ud2\n");
    __asm__ volatile("ud2");
    printf("fault-ud: survived ud2!\n");
    return 0;
}
