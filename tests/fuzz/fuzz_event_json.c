/* libFuzzer target: arbitrary bytes as a Kafka event, through engine/stream/event_json.c and cJSON;
 * any difference (accepted or not, the error offset, a field's name, kind or value) aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event_json.h"

static kite_event_json ev;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* cJSON may read one byte past the length (a name at the very end): give it a NUL. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = 0;
    size_t at = 0;
    int rc = kite__event_json_parse(&ev, text, size, &at);
    cJSON *c = size ? cJSON_ParseWithLength(text, size) : NULL;
    if (!c != (rc != 0)) abort();
    if (!c) {
        const char *ep = cJSON_GetErrorPtr();
        if (size && ep && (size_t)(ep - text) != at) abort();
    } else {
        if (cJSON_IsObject(c) != ev.ej_is_object) abort();
        int i = 0;
        for (const cJSON *it = ev.ej_is_object ? c->child : NULL; it; it = it->next, i++) {
            if (i >= ev.ej_nfields) abort();
            const kite_event_field *f = &ev.ej_fields[i];
            if (strcmp(f->ef_name, it->string) || f->ef_name_len != strlen(f->ef_name)) abort();
            if (cJSON_IsNumber(it) &&
                (f->ef_kind != KITE_EV_NUMBER || memcmp(&f->ef_number, &it->valuedouble, 8)))
                abort();
            if (cJSON_IsString(it) && (f->ef_kind != KITE_EV_TEXT || strcmp(f->ef_text, it->valuestring)))
                abort();
            if ((cJSON_IsTrue(it) && f->ef_kind != KITE_EV_TRUE) ||
                (cJSON_IsFalse(it) && f->ef_kind != KITE_EV_FALSE) ||
                (cJSON_IsNull(it) && f->ef_kind != KITE_EV_NULL) ||
                ((cJSON_IsArray(it) || cJSON_IsObject(it)) && f->ef_kind != KITE_EV_NESTED))
                abort();
        }
        if (ev.ej_is_object && i != ev.ej_nfields) abort();
    }
    cJSON_Delete(c);
    free(text);
    return 0;
}
