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
  - The visitor WebSocket named in Boot.WS (docs/websocket.md).

# In the browser

The loader defines window.HubSpotConversations (alias
window.ParleyConversations), HubSpot's visitor SDK: widget.load, open, close,
remove, refresh, status; clear; on and off for widgetLoaded, widgetClosed,
conversationStarted, conversationClosed, unreadConversationCountChanged,
userInteractedWithWidget and quickReplyButtonClick (a bot's quick reply was
clicked: {value}), with HubSpot's payloads. It honours
hsConversationsSettings.loadImmediately and runs hsConversationsOnReady, and it
opens the panel for a URL with #hs-chat-open (any case) on load and on
hashchange. The launcher and panel live in an open shadow root on a fixed host
element, so the page's CSS neither leaks in nor shifts.

The chat UI keeps the visitor token in localStorage under
"parley.visitor.<widgetId>", written only once the visitor has sent a message,
and the last seq shown under "parley.seen.<widgetId>" (for the unread badge).
Messages are sent exactly once across reconnects: each has a clientId and stays
in an outbox until acknowledged, and is resent with the same clientId after a
reconnect.

Not yet: hsConversationsSettings.inlineEmbedSelector, identificationEmail and
identificationToken, disableAttachment; the event contactAssociated; email
capture and consent (G1).
*/
package widget
