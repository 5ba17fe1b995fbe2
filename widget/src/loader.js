// Parley's loader, served as {base}/embed.js. A site embeds
//   <script async src="{base}/embed.js"></script>
// and gets window.HubSpotConversations (alias window.ParleyConversations),
// HubSpot's visitor SDK. The loader asks the server which widget this page
// gets, draws the launcher in an open shadow root and, on first open (or at
// once for a returning visitor, to show unread replies), imports the chat UI
// (chat.js) and its CSS. No framework; budget 4 KB gzip.
//
// Boot: GET {base}/widget/v1/boot?url=<page URL> answers
//   {"widget":null}                      no widget for this page
//   {"widget":{"id","name","welcome","appearance":{"accentColor","position"},
//              "status":{"available","showLauncher","awayMessage","typicalResponseTime"}},
//    "assets":{"js":"<absolute URL>","css":"<absolute URL>"},
//    "ws":"<absolute ws(s) URL of the visitor endpoint>"}
//
// Not yet: hsConversationsSettings.inlineEmbedSelector, identificationEmail
// and identificationToken, disableAttachment.

const W = window;
const D = document;

if (!(W.HubSpotConversations && W.HubSpotConversations.parley)) init();

function init() {
  const script =
    D.currentScript || [].find.call(D.scripts, (s) => /\/embed\.js([?#]|$)/.test(s.src));
  const base = script ? script.src.replace(/\/embed\.js([?#].*)?$/, "") : "";
  const lang = /^de/i.test(D.documentElement.lang) ? "de" : "en";
  const T =
    lang == "de"
      ? { open: "Chat öffnen", close: "Chat schließen" }
      : { open: "Open chat", close: "Close chat" };
  const hashOpen = () => /#hs-chat-open/i.test(location.hash);

  const handlers = {};
  let boot = null; // the last boot answer that had a widget
  let host, root, wrap, btn, badge;
  let started = false; // load() was called (or loadImmediately)
  let loaded = false;
  let isOpen = false;
  let wantOpen = hashOpen();
  let interacted = false;
  let status = {};
  let stream = null; // the status stream while the launcher is hidden (watch)
  let chat = null; // the mounted chat UI
  let chatLoading = null;
  let gen = 0; // bumped by teardown so late async results are dropped
  let bootSeq = 0;

  const call = (fn, arg) => {
    try {
      fn(arg);
    } catch (e) {
      console.error(e);
    }
  };

  // events is the emitter handed to the chat UI and behind on()/off().
  const events = {
    on(type, fn) {
      (handlers[type] = handlers[type] || []).push(fn);
    },
    off(type, fn) {
      const a = handlers[type] || [];
      const i = a.indexOf(fn);
      if (i >= 0) a.splice(i, 1);
    },
    emit(type, payload) {
      if (type == "userInteractedWithWidget") {
        if (interacted) return;
        interacted = true;
        payload = { message: "User has interacted with widget" };
      }
      if (type == "unreadConversationCountChanged") setBadge(payload.unreadCount);
      (handlers[type] || []).slice().forEach((fn) => call(fn, payload));
    },
  };

  // ctl is what the chat UI may ask of the loader.
  const ctl = {
    close() {
      close();
      if (btn) btn.focus();
    },
    status(s) {
      status = s || {};
      render();
    },
  };

  function load(opts) {
    started = true;
    if (opts && opts.widgetOpen) wantOpen = true;
    if (loaded) {
      if (wantOpen) open();
    } else if (!bootSeq || bootSeq < 0) {
      runBoot();
    }
  }

  function runBoot() {
    const n = (bootSeq = Math.abs(bootSeq) + 1);
    fetch(base + "/widget/v1/boot?url=" + encodeURIComponent(location.href), {
      credentials: "omit",
    })
      .then((r) => {
        if (!r.ok) throw Error("boot: HTTP " + r.status);
        return r.json();
      })
      .then((b) => n == bootSeq && apply(b))
      .catch((e) => console.warn("Parley chat:", e.message))
      .then(() => {
        // A negative bootSeq means "no boot in flight".
        if (n == bootSeq) bootSeq = -n;
      });
  }

  function apply(b) {
    const wg = b && b.widget;
    if (!wg || (boot && boot.widget.id != wg.id)) teardown();
    if (!wg) return;
    boot = b;
    status = wg.status || {};
    draw(wg);
    if (chat) chat.status(status);
    if (!loaded) {
      loaded = true;
      events.emit("widgetLoaded", { message: "Widget has loaded" });
    }
    if (wantOpen) open();
    else if (!chat && stored("parley.visitor." + wg.id)) {
      (W.requestIdleCallback || setTimeout)(() => boot && mountChat());
    }
  }

  function draw(wg) {
    const ap = wg.appearance || {};
    const accent = /^#[0-9a-f]{6}$/i.test(ap.accentColor) ? ap.accentColor : "#2563eb";
    if (!host) {
      host = D.createElement("div");
      host.id = "parley-chat";
      // Out of the page's flow and styles: no layout shift, no inherited CSS.
      host.style.cssText =
        "all:initial!important;position:fixed!important;bottom:0!important;right:0!important;width:0!important;height:0!important;z-index:2147483000!important";
      root = host.attachShadow({ mode: "open" });
      root.innerHTML =
        "<style>" +
        LAUNCHER_CSS +
        '</style><div class="pw"><button class="l" type="button" aria-expanded="false">' +
        ICONS +
        '<span class="bd" aria-hidden="true" hidden></span></button></div>';
      wrap = root.firstChild.nextSibling;
      btn = wrap.firstChild;
      badge = btn.lastChild;
      btn.onclick = () => {
        events.emit("userInteractedWithWidget");
        isOpen ? close() : open(true);
      };
      (D.body || D.documentElement).appendChild(host);
    }
    wrap.style.setProperty("--a", accent);
    wrap.style.setProperty("--f", contrast(accent));
    wrap.classList.toggle("left", ap.position == "left");
    render();
  }

  function render() {
    if (!btn) return;
    btn.setAttribute("aria-label", isOpen ? T.close : T.open);
    btn.setAttribute("aria-expanded", isOpen);
    wrap.classList.toggle("open", isOpen);
    wrap.classList.toggle("hide", status.showLauncher === false && !isOpen);
    watch();
  }

  // While the status hides the launcher and no chat is mounted (the chat
  // gets status on its WebSocket), a stream of status events brings the
  // launcher back as soon as someone is available (docs/api.md).
  function watch() {
    const on = status.showLauncher === false && !chat && boot && boot.ws && W.EventSource;
    if (on && !stream) {
      stream = new EventSource(
        boot.ws.replace(/^ws/, "http").replace("/widget/v1/ws?", "/widget/v1/status?"),
      );
      stream.onmessage = (e) => {
        try {
          status = JSON.parse(e.data).status || status;
        } catch (_) {}
        render();
      };
    } else if (!on && stream) {
      stream.close();
      stream = null;
    }
  }

  function setBadge(n) {
    if (!badge) return;
    badge.hidden = !n;
    badge.textContent = n > 9 ? "9+" : n || "";
  }

  function mountChat() {
    const g = gen;
    const b = boot;
    return (chatLoading =
      chatLoading ||
      Promise.all([import(b.assets.js), css(b.assets.css)]).then(
        ([m]) => {
          if (g != gen) return null;
          return (chat = chat || m.mount(root, b, events, lang, ctl));
        },
        (e) => {
          chatLoading = null;
          console.warn("Parley chat:", e.message);
        },
      ));
  }

  function css(href) {
    return new Promise((done) => {
      const l = D.createElement("link");
      l.rel = "stylesheet";
      l.href = href;
      l.onload = l.onerror = done;
      root.insertBefore(l, wrap);
    });
  }

  // open shows the panel, loading the chat UI on first use. focus is set when
  // the visitor opened it themselves.
  function open(focus) {
    wantOpen = true;
    if (!loaded || isOpen) return;
    wantOpen = false;
    isOpen = true;
    render();
    mountChat().then((c) => c && isOpen && c.open(focus === true));
  }

  function close() {
    wantOpen = false;
    if (!isOpen) return;
    isOpen = false;
    render();
    if (chat) chat.close();
    events.emit("widgetClosed", { message: "Widget has been closed" });
  }

  function teardown() {
    gen++;
    if (stream) stream.close();
    stream = null;
    if (chat) chat.destroy();
    if (host) host.remove();
    chat = chatLoading = boot = host = root = wrap = btn = badge = null;
    loaded = isOpen = false;
    status = {};
  }

  function clear(opts) {
    try {
      for (let i = localStorage.length; i--; ) {
        const k = localStorage.key(i);
        if (/^parley\./.test(k)) localStorage.removeItem(k);
      }
    } catch (e) {
      // storage disabled: nothing to forget
    }
    if (opts && opts.resetWidget && started) {
      teardown();
      runBoot();
    }
  }

  const sdk = {
    parley: 1,
    widget: {
      load,
      open: () => open(),
      close,
      remove() {
        bootSeq = -Math.abs(bootSeq) - 1; // drop a boot in flight
        teardown();
      },
      refresh() {
        if (started) runBoot();
      },
      status: () => ({ loaded }),
    },
    clear,
    on: events.on,
    off: events.off,
  };
  W.HubSpotConversations = W.ParleyConversations = sdk;

  addEventListener("hashchange", () => hashOpen() && open());

  const settings = W.hsConversationsSettings || {};
  const queue = W.hsConversationsOnReady;
  const ready = [];
  ready.push = (...fns) => {
    fns.forEach((fn) => call(fn));
    return 0;
  };
  try {
    // A page that assigns a new array after the loader ran is served too.
    Object.defineProperty(W, "hsConversationsOnReady", {
      configurable: true,
      get: () => ready,
      set: (q) => Array.isArray(q) && ready.push(...q),
    });
  } catch (e) {
    // declared with var by the page: not configurable, but writable
    W.hsConversationsOnReady = ready;
  }
  if (Array.isArray(queue)) ready.push(...queue);
  if (settings.loadImmediately !== false && !started) load();
}

function stored(key) {
  try {
    return localStorage.getItem(key);
  } catch (e) {
    return null;
  }
}

// contrast picks readable text for the accent colour.
function contrast(hex) {
  const n = parseInt(hex.slice(1), 16);
  return ((n >> 16) * 299 + ((n >> 8) & 255) * 587 + (n & 255) * 114) / 1000 > 165
    ? "#111827"
    : "#fff";
}

const LAUNCHER_CSS =
  ".l{position:fixed;bottom:20px;right:20px;width:60px;height:60px;margin:0;padding:0;border:0;border-radius:50%;background:var(--a);color:var(--f);cursor:pointer;display:flex;align-items:center;justify-content:center;box-shadow:0 6px 20px rgba(17,24,39,.22),0 2px 6px rgba(17,24,39,.12);transition:transform .18s ease;z-index:2}" +
  ".l:hover{transform:scale(1.06)}.l:active{transform:scale(.96)}" +
  ".l:focus{outline:0}.l:focus-visible{box-shadow:0 0 0 3px #fff,0 0 0 6px var(--a)}" +
  ".left .l{right:auto;left:20px}.hide .l{display:none}" +
  ".l svg{width:30px;height:30px;fill:currentColor}.l .x{display:none;width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2.5;stroke-linecap:round;stroke-linejoin:round}" +
  ".open .l .c{display:none}.open .l .x{display:block}" +
  ".bd{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border:2px solid #fff;border-radius:11px;background:#e11d48;color:#fff;font:700 12px/18px system-ui,sans-serif;text-align:center}" +
  ".bd[hidden]{display:none}" +
  "@media (prefers-reduced-motion:reduce){.l{transition:none}}";

const ICONS =
  '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3L4.3 21.6c-.1.4.3.7.7.5l4-2c1 .3 2 .4 3 .4 5.5 0 10-3.9 10-8.8S17.5 3 12 3z"/></svg>' +
  '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';
