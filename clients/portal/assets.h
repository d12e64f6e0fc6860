// The portal's one stylesheet, served as /static/portal.css (no inline
// styles: the Content-Security-Policy allows style from 'self' only).
// Colours meet WCAG 2.1 AA contrast (4.5:1 for text, 3:1 for focus rings
// and borders against their background).
#pragma once

namespace duurzaam::portal {

inline constexpr char kPortalCss[] = R"css(
:root { --ink: #1a1a1a; --muted: #4a4a4a; --line: #767676; --brand: #01689b;
        --brand-dark: #004f76; --focus: #ffbf47; --bg: #ffffff; --soft: #f3f6f8; }
* { box-sizing: border-box; }
html { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 100%;
       line-height: 1.5; color: var(--ink); background: var(--bg); }
body { margin: 0; }
a { color: var(--brand-dark); text-underline-offset: 0.15em; }
a:hover { color: #002d44; }
:focus-visible { outline: 3px solid var(--ink); outline-offset: 2px; box-shadow: 0 0 0 6px var(--focus); }
.skip { position: absolute; left: -9999px; top: 0; background: var(--focus); color: var(--ink);
        padding: 0.5rem 1rem; z-index: 10; }
.skip:focus { left: 0.5rem; }
header.site { background: var(--brand); color: #ffffff; }
header.site .bar { max-width: 64rem; margin: 0 auto; padding: 0.75rem 1rem; display: flex;
                   flex-wrap: wrap; gap: 0.5rem 1.5rem; align-items: center; }
header.site a { color: #ffffff; }
.brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; margin-right: auto; }
.brand span { font-weight: 400; }
.tools { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; }
.who { margin: 0; }
.org { opacity: 1; }
.logout { margin: 0; }
.logout button { background: #ffffff; color: var(--brand-dark); border: 2px solid #ffffff; }
main { display: block; max-width: 64rem; margin: 0 auto; padding: 1rem 1rem 3rem; }
main:focus { outline: none; }
h1 { font-size: 2rem; line-height: 1.2; margin: 1rem 0; }
h2 { font-size: 1.5rem; margin: 2rem 0 0.75rem; }
h3 { font-size: 1.2rem; margin: 1.25rem 0 0.5rem; }
.lead { font-size: 1.15rem; color: var(--muted); }
.button, button { display: inline-block; font: inherit; font-weight: 600; background: var(--brand-dark);
                  color: #ffffff; border: 2px solid var(--brand-dark); border-radius: 4px;
                  padding: 0.5rem 1rem; text-decoration: none; cursor: pointer; }
.button:hover, button:hover { background: #002d44; color: #ffffff; }
.filters { display: flex; flex-wrap: wrap; gap: 1rem 2rem; align-items: flex-end; background: var(--soft);
           padding: 1rem; border: 1px solid var(--line); border-radius: 4px; margin: 1rem 0; }
fieldset { border: 0; padding: 0; margin: 0; }
legend { font-weight: 600; margin-bottom: 0.25rem; }
.check { display: flex; align-items: center; gap: 0.5rem; margin: 0.25rem 0; }
.check input { width: 1.25rem; height: 1.25rem; margin: 0; }
.field { margin: 1.25rem 0; }
.field label { display: block; font-weight: 600; }
.hint { margin: 0.15rem 0 0.35rem; color: var(--muted); }
input[type="text"], input[type="date"], select { font: inherit; padding: 0.4rem 0.5rem;
       border: 2px solid var(--ink); border-radius: 2px; background: #ffffff; color: var(--ink); }
input.short { width: 8rem; }
input.date { width: 11rem; }
.invalid { border-left: 4px solid #b00020; padding-left: 0.75rem; }
.invalid input { border-color: #b00020; }
.field-error { color: #b00020; font-weight: 600; margin: 0.25rem 0; }
.error-summary { border: 4px solid #b00020; padding: 0.75rem 1rem; margin: 1rem 0; }
.error-summary h2 { margin-top: 0; font-size: 1.25rem; }
.error-summary a { color: #b00020; font-weight: 600; }
.notice { border-left: 6px solid #1b5e20; background: #e8f5e9; padding: 0.5rem 1rem; margin: 1rem 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: 600; padding: 0.5rem 0; }
th, td { text-align: left; vertical-align: top; padding: 0.5rem; border-bottom: 1px solid var(--line); }
thead th { border-bottom: 2px solid var(--ink); }
td ul, .attention, .reasons { margin: 0; padding-left: 1.25rem; }
.level { display: inline-block; font-weight: 700; padding: 0.1rem 0.5rem; border-radius: 3px;
         border: 2px solid currentColor; }
.level-1 { color: #1b5e20; background: #ffffff; }
.level-2 { color: #6b4100; background: #ffffff; }
.level-3 { color: #ffffff; background: #a1001c; border-color: #a1001c; }
.level-4 { color: #3d3d3d; background: #ffffff; }
.level-line { font-size: 1.2rem; }
.timeline { padding-left: 1.25rem; }
.timeline li { margin: 0.35rem 0; }
.tag { font-size: 0.9rem; border: 1px solid var(--line); border-radius: 3px; padding: 0 0.35rem; }
.pages ul, .crumbs { list-style: none; padding: 0; display: flex; gap: 1.5rem; }
.crumbs { margin-top: 1rem; }
.actions { display: flex; gap: 1.5rem; align-items: center; margin-top: 1.5rem; }
footer.site { border-top: 1px solid var(--line); max-width: 64rem; margin: 0 auto; padding: 1rem;
              color: var(--muted); }
.table-wrap { overflow-x: auto; }
@media (max-width: 40rem) { h1 { font-size: 1.6rem; } th, td { padding: 0.35rem; } }
)css";

}  // namespace duurzaam::portal
