/* Inside the HTML report (src/report.h): the fixed parts of the page, its
 * style, legend and hover script. Not for use outside report*.c. */
#ifndef VG_SRC_REPORT_PAGE_H
#define VG_SRC_REPORT_PAGE_H

#include <stddef.h>
#include <stdio.h>

/* Writes everything before the summary table: head, style, title, legend. */
void vg__report_page_head(FILE *out, size_t files, unsigned charts);

/* Writes the tooltip box, the script and the end of the page. */
void vg__report_page_tail(FILE *out);

#endif
