/* vigil command line (placeholder until the pipeline lands). */
#include <stdio.h>

int main(void)
{
    fprintf(stderr, "vigil: not built yet\n");
    return 2;
}
