/* Feedback floors; see feedback.h. */
#include "engine/feedback.h"

#include <math.h>
#include <string.h>

void vg_feedback_init(vg_feedback *f)
{
    memset(f, 0, sizeof(*f));
}

int vg_feedback_pages(const vg_feedback *f, double deviation)
{
    if (isnan(deviation))
        return 1;  /* nothing to compare: the other floors decide */
    double floor = deviation >= 0 ? f->floor_up : f->floor_down;
    return floor == 0 || fabs(deviation) > floor;
}

void vg_feedback_track(vg_feedback *f, int starts, int anomalous, double deviation)
{
    if (starts)
        f->dev_up = f->dev_down = 0;
    if (!anomalous || isnan(deviation))
        return;
    if (deviation > f->dev_up)
        f->dev_up = deviation;
    if (-deviation > f->dev_down)
        f->dev_down = -deviation;
}

void vg_feedback_apply(vg_feedback *f, vg_verdict verdict)
{
    if (verdict == VG_VERDICT_ANOMALOUS) {
        f->anomalous++;
        f->floor_up = f->floor_down = 0;
        return;
    }
    f->not_anomalous++;
    if (f->dev_up * VG_FEEDBACK_MARGIN > f->floor_up)
        f->floor_up = f->dev_up * VG_FEEDBACK_MARGIN;
    if (f->dev_down * VG_FEEDBACK_MARGIN > f->floor_down)
        f->floor_down = f->dev_down * VG_FEEDBACK_MARGIN;
}

int vg_verdict_parse(const char *text)
{
    if (text != NULL && strcmp(text, "not_anomalous") == 0)
        return VG_VERDICT_NOT_ANOMALOUS;
    if (text != NULL && strcmp(text, "anomalous") == 0)
        return VG_VERDICT_ANOMALOUS;
    return -1;
}

const char *vg_verdict_name(vg_verdict v)
{
    return v == VG_VERDICT_ANOMALOUS ? "anomalous" : "not_anomalous";
}
