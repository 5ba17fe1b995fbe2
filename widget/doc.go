/*
Package widget is what a visitor's browser loads: the loader served as
{base}/embed.js, the chat UI it imports on first open (chat.js, chat.css), and
the rule that picks which widget a page gets (Select).

# Files

The browser files are plain ES modules in src/ (loader.js, chat.js, chat.css).
"go generate ./widget" bundles and minifies them with esbuild's Go API into
dist/, which is committed and embedded; no Node is needed to build or run. A
test fails when dist/ is stale, and another holds the download budget: the
loader at most 4 KB gzip, all three files at most 30 KB gzip.

# Themes

src/theme.scss is the per-widget theme layer: from a widget's accent colour,
position and font size it sets the custom properties chat.css and the
launcher read (--a, --f, --a-hover, --a-active, --a-soft, --a-ring, --fs)
and the side of the launcher and panel. Themes compiles it with Dart Sass
(godartsass; the npm package sass-embedded-linux-x64 ships the binary, see
FindSass) once per appearance and caches the result; the values reach Sass
only as Sass values built from validated input. "go generate" also compiles
the default appearance to dist/theme.css, embedded, so Parley runs without
Dart Sass; then other appearances get Fallback, that theme followed by their
colours computed in Go.

# What the server serves

  - GET {base}/embed.js: Assets.Loader, with a short cache lifetime (its URL
    never changes). A site embeds it as <script async src="{base}/embed.js">.
  - The chat files, Assets.ChatJS and Assets.ChatCSS, under URLs of the
    server's choosing (best with the Hash in them, cached for good). The loader
    imports chat.js with import() from the customer's origin, so the response
    needs Access-Control-Allow-Origin; chat.css is loaded with a <link>.
  - GET {base}/widget/v1/boot?url=<page URL>: a Boot as JSON, also with
    Access-Control-Allow-Origin. The server picks the widget with Select
    (targeting, enabled) and fills in its current parley.WidgetStatus. A page
    without a widget gets {"widget":null} and the loader draws nothing.
  - The theme stylesheet under Boot.Assets.Theme, {base}/widget/v1/theme/{hash}.css,
    cached for good; the loader links it in the shadow root when it draws the
    launcher.
  - The visitor WebSocket named in Boot.WS (docs/websocket.md).

# In the browser

The loader defines window.HubSpotConversations (alias
window.ParleyConversations), HubSpot's visitor SDK: widget.load({widgetOpen}),
open, close, remove, refresh (boots again for the current URL, so a
single-page app gets the widget its new page targets, another one, or none),
status; clear({resetWidget}); on and off for widgetLoaded, widgetClosed,
conversationStarted, conversationClosed, unreadConversationCountChanged,
userInteractedWithWidget, contactAssociated and quickReplyButtonClick, with
HubSpot's payloads. It honours hsConversationsSettings.loadImmediately,
inlineEmbedSelector (the panel fills that element, no launcher),
disableAttachment (there is no attachment UI), identificationEmail and
identificationToken, avoidInlineStyles (always: the launcher CSS is a
constructed stylesheet, never a <style>), enableWidgetCookieBanner (the chat's
cookie notice; until accepted nothing is stored), runs hsConversationsOnReady, and opens the panel for a
URL with #hs-chat-open (any case) on load and on hashchange. The launcher and
panel live in an open shadow root on a fixed host element, so the page's CSS
neither leaks in nor shifts; the chat UI is imported only when it is shown
(opened, open by default, the small-screen welcome prompt, inline) or, for a
returning visitor, at idle time. A bot's quick
replies fire quickReplyButtonClick ({name: "QUICK_REPLIES", multiSelect,
value: [option]}). widget.refresh({openToNewThread: true}) opens the widget on
an empty conversation whose first message leaves the old thread
(message.send's leave). Odd setting values are the defaults, with a console
warning; docs/api.md lists what is not supported.

The chat UI shows the heading, the welcome message, the consent box (explicit
consent disables the composer until "I agree") or the consent texts, and
email capture before or after the first message unless the visitor is known.
It is keyboard-operable: focus moves into the panel when the visitor opens
it and stays there (Tab cycles) until Escape or the minimize button closes it
and gives focus back to the launcher; new messages are announced politely
(role log, aria-live). Its language follows the page's <html lang> (German
for "de…", else English); message text has dir="auto", and a right-to-left
page gets a mirrored widget.

Storage: nothing is written before the visitor acts in the widget. The
visitor token, one per site, is kept in localStorage under "parley.visitor"
once the server gives one (in answer to the visitor's message, "I agree" or
email); "parley.seen.<widgetId>" holds the last seq shown (for the unread
badge) while a token is stored, and "parley.closed.<widgetId>" that the
visitor closed a widget that opens by default. Identified visitors keep no
token. With hsConversationsSettings.enableWidgetCookieBanner, nothing is
written before the visitor accepts the chat's cookie notice
("parley.cookies" = "yes"); declined, only "parley.cookies" = "no" is kept
and the visitor token lives in memory as long as the page. Messages are
sent exactly once across reconnects: each has a clientId
and stays in an outbox until acknowledged, and is resent with the same
clientId after a reconnect.
*/
package widget
