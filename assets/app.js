// Starts the NHS.UK design system's components. The pages work without JavaScript; this only
// enhances them. A module (deferred, and run only by browsers the design system supports), so
// no inline script is needed: the CSP allows scripts from this host only. The import's path is
// rewritten to the module's content-hashed URL when the binary serves it (src/web/assets.rs).
import { initAll } from "/assets/nhsuk/nhsuk-frontend.min.js";

document.body.classList.add("js-enabled", "nhsuk-frontend-supported");
initAll();
