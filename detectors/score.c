/* vg_score_from_surprise(): the one mapping from a tail probability to a
 * score that every detector shares, so equal scores mean equal rarity.
 *
 * Up to a surprise of 8 (p >= 1e-8) the score is 1 - p. Beyond, 1 - p
 * would round to 1 long before p underflows, and two very anomalous points
 * could no longer be ranked, so the remaining 1e-8 is shared out as
 * 1e-8 / (1 + ln(s / 8)): continuous at 8, strictly increasing, and still
 * about 1e-8 / 700 below 1 at the largest finite surprise (~1e308). */
#include "detectors/detector.h"

#include <math.h>

#define KNEE 8.0   /* surprise where the slow tail takes over */

double vg_score_from_surprise(double surprise_log10)
{
    double s = surprise_log10;
    if (!(s > 0.0))   /* also NaN */
        return 0.0;
    if (s <= KNEE)
        return -expm1(-s * M_LN10);
    if (isinf(s))
        return nextafter(1.0, 0.0);
    return 1.0 - 1e-8 / (1.0 + log(s / KNEE));
}
