/* calcom_schedules.c — Cal.com API v2 schedules (issue 16): being written; its routes will join
 * the event types module (calcom_event_types.c). */
#include "calcom.h"
