/* The feature-state API; the declarations live in feature_state.h, and the spec format it
 * reads is described in docs/feature-spec.md (README.md, "Formats", links it).
 *
 * Why the #include_next: glibc's own headers say `#include <features.h>`, and engine/ is on the
 * -I path of every target linking kite_engine, so this file is found first. Forwarding to the
 * next features.h on the path (glibc's) keeps <stdio.h> and friends working; including it
 * again is harmless (both headers have guards). */
#include_next <features.h>

#include "feature_state.h"
