#!/usr/bin/env bash
# Refreshes the committed front-end files from the versions pinned in package.json and
# package-lock.json: the NHS.UK design system's built CSS and JavaScript and the images its CSS
# and our layout use (assets/nhsuk/), and axe-core for the browser tests (assets/test/). The
# binary embeds assets/ at build time, so building and running need no Node: only this script
# does. Run it after changing a version in package.json (then `npm install` to update the lock).
set -euo pipefail
cd "$(dirname "$0")/.."

npm ci --ignore-scripts --no-audit --no-fund

src=node_modules/nhsuk-frontend/dist/nhsuk
out=assets/nhsuk
rm -rf "$out" assets/test
mkdir -p "$out/images" assets/test

# The CSS, without its @font-face rules: they load the Frutiger font from assets.nhs.uk, another
# host, which the pages never contact (and the CSP would refuse). The font stack then falls
# back to the design system's own "arial, sans-serif".
node -e '
const fs = require("fs");
const css = fs.readFileSync(process.argv[1], "utf8").replace(/@font-face\{[^}]*\}/g, "");
const external = css.match(/url\((?!["\x27]?\/assets\/images\/)[^)]*\)/g);
if (external) { console.error("unexpected url() in the CSS:", external); process.exit(1); }
fs.writeFileSync(process.argv[2], css);
' "$src/nhsuk-frontend.min.css" "$out/nhsuk-frontend.min.css"
grep -q '@font-face' "$out/nhsuk-frontend.min.css" && { echo "an @font-face rule is left" >&2; exit 1; }

# The JavaScript is an ES module; assets/app.js imports it and starts the components.
sed 's|//# sourceMappingURL=.*$||' "$src/nhsuk-frontend.min.js" > "$out/nhsuk-frontend.min.js"

# Every image the CSS refers to, and the icons the layout links to.
for img in $(grep -o 'url(/assets/images/[^)]*)' "$out/nhsuk-frontend.min.css" | sed 's|url(/assets/images/||; s|)||' | sort -u) \
    favicon.ico favicon.svg nhsuk-icon-180.png nhsuk-icon-mask.svg; do
    cp "$src/assets/images/$img" "$out/images/$img"
done

cp node_modules/axe-core/axe.min.js assets/test/axe.min.js

printf 'nhsuk-frontend %s, axe-core %s\n' \
    "$(node -p 'require("./node_modules/nhsuk-frontend/package.json").version')" \
    "$(node -p 'require("./node_modules/axe-core/package.json").version')" > assets/VERSIONS
echo "assets refreshed:"; cat assets/VERSIONS; ls -R assets
