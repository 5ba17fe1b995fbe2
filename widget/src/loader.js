// Parley's loader, served as {base}/embed.js. A site embeds
//   <script async src="{base}/embed.js"></script>
// and gets window.HubSpotConversations (alias window.ParleyConversations),
// HubSpot's visitor SDK. The loader asks the server which widget this page
// gets, draws the launcher in an open shadow root and imports the chat UI
// (chat.js) and its CSS only when needed: on open, for open-by-default, for
// the small-screen welcome prompt, inline embedding, or at idle time for a
// returning visitor (to show unread replies). No framework; budget 4 KB gzip.
//
// Boot: GET {base}/widget/v1/boot?url=<page URL>[&vt=<visitor token>]
// [&ie=<identificationEmail>&it=<identificationToken>][&lang=<html lang>]
// answers
//   {"widget":null}                      no widget for this page
//   {"widget":{"id","name","welcome","openByDefault","heading":{"name","avatarUrl"},
//              "emailCapture":{"when","message"},"mobile":{"welcomeAsPrompt","hideLauncher"},
//              "consent":{…},"known","appearance":{…},"status":{…}},
//    "assets":{"js","css","theme"},"ws":"<absolute ws(s) URL of the visitor endpoint>",
//    "lang":"de","texts":{…the widget's texts in lang, locale/widget/de.json}}
// The server picks the language: the page's <html lang>, or the visitor's
// browser's (Accept-Language) where the widget's settings say so.
//
// Settings read from window.hsConversationsSettings when the widget loads:
// loadImmediately (default true), inlineEmbedSelector (the panel fills that
// element; no launcher), disableAttachment (no "Attach file" on this page,
// whatever the widget allows), identificationEmail and identificationToken
// (CONTRACT §4), avoidInlineStyles (no <style> element: the launcher's CSS
// goes in as a constructed stylesheet, which a style-src policy without
// 'unsafe-inline' allows), enableWidgetCookieBanner (false; true or
// "ON_WIDGET_LOAD"; "ON_EXIT_INTENT": the chat's cookie notice, see chat.js).
// A value of another type is the default; a setting of HubSpot's that
// Parley does not have, or a call it does not know, logs a warning naming it.
//
// Storage: the loader only reads. The chat UI writes its keys (the visitor
// token "parley.visitor", "parley.seen.<widgetId>") once the visitor has
// acted in the widget; "parley.closed.<widgetId>" remembers that the visitor closed a
// widget that opens by default. clear() removes them all.
//
// Right-to-left: on a page whose <html dir> (or computed direction) is rtl
// the launcher and panel mirror: they sit on the other side and the panel's
// layout runs right to left.

const W = window;
const D = document;

if (!(W.HubSpotConversations && W.HubSpotConversations.parley)) init();

function init() {
  const script =
    D.currentScript || [].find.call(D.scripts, (s) => /\/embed\.js([?#]|$)/.test(s.src));
  const base = script ? script.src.replace(/\/embed\.js([?#].*)?$/, "") : "";
  // The widget editor's preview page (/widget/v1/preview) marks its snippet:
  // the editor then hands over each draft's boot answer (ParleyPreview.show)
  // instead of the loader fetching one.
  const preview = script && script.hasAttribute("data-preview");
  const html = D.documentElement;
  // T is the widget's text of key in the language the server picked for
  // this page (boot.texts); only drawing, after a boot, asks.
  const T = (k) => boot.texts[k] || k;
  const hashOpen = () => /#hs-chat-open/i.test(location.hash);
  const small = () => W.matchMedia && matchMedia("(max-width:480px)").matches;
  // opt reads one setting: its value if ok(value), else undefined (the
  // default). A hostile page's getters cannot break the loader.
  const opt = (k, ok) => {
    let v;
    try {
      v = (W.hsConversationsSettings || {})[k];
      if (ok(v)) return v;
    } catch (e) {
      // a throwing getter, or a selector that is none
    }
    if (v !== undefined && v !== "") warn(k + ": ignored, default used");
  };
  const str = (k) => opt(k, (v) => typeof v == "string" && v);
  const bool = (v) => typeof v == "boolean";
  // ck is enableWidgetCookieBanner: true, "ON_WIDGET_LOAD" or
  // "ON_EXIT_INTENT" turn the cookie notice on (chat.js).
  const ck = () => opt("enableWidgetCookieBanner", (v) => [false, true, "ON_WIDGET_LOAD", "ON_EXIT_INTENT"].includes(v));

  const handlers = {};
  let boot = null; // the last boot answer that had a widget
  let host, root, wrap, btn, badge, label, themeLink;
  let started = false; // load() was called (or loadImmediately)
  let loaded = false;
  let isOpen = false;
  let wantOpen = hashOpen();
  let interacted = false;
  let inline = null; // the element the panel is embedded in
  let status = {};
  let stream = null; // the status stream while no chat is mounted (watch)
  let streamWait = 0; // timer before opening a refused status stream again
  let chat = null; // the mounted chat UI
  let chatLoading = null;
  let gen = 0; // bumped by teardown so late async results are dropped
  let bootSeq = 0;
  let fresh = false; // refresh({openToNewThread}) waits for the next boot

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
      if (type == "userSelectedThread") warn(type + ": not supported");
      if (typeof fn == "function") (handlers[type] = handlers[type] || []).push(fn);
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
      close(1);
      if (btn) btn.focus();
    },
    open: () => open(true),
    status(s) {
      status = s || {};
      render();
    },
  };

  // show draws the widget of boot answer b as a visitor's page would (the
  // editor then opens it with widget.open).
  if (preview)
    W.ParleyPreview = {
      show(b) {
        teardown();
        apply(b);
      },
    };

  function load(opts) {
    started = true;
    if (opts && opts.widgetOpen === true) wantOpen = true;
    if (loaded) {
      if (wantOpen) open();
    } else if (!bootSeq || bootSeq < 0) {
      runBoot();
    }
  }

  function runBoot() {
    if (preview) return;
    const n = (bootSeq = Math.abs(bootSeq) + 1);
    const ie = str("identificationEmail");
    const it = str("identificationToken");
    const id = ie && it && { email: ie, token: it };
    const q = (k, v) => (v ? "&" + k + "=" + encodeURIComponent(v) : "");
    fetch(
      base +
        "/widget/v1/boot?url=" +
        encodeURIComponent(location.href) +
        q("vt", stored(VT)) +
        q("lang", html.lang) +
        (id ? q("ie", ie) + q("it", it) : ""),
      { credentials: "omit" },
    )
      .then((r) => {
        if (!r.ok) throw Error("boot: HTTP " + r.status);
        return r.json();
      })
      .then((b) => {
        if (n != bootSeq) return;
        if (b.widget) b.identification = id;
        apply(b);
      })
      .catch((e) => warn(e.message))
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
    const key = "parley.closed." + wg.id;
    if (fresh) {
      fresh = false;
      mountChat().then((c) => c && c.fresh());
    }
    if (ck() && !stored(CK)) mountChat();
    if (inline) open();
    else if (wg.openByDefault && !small() && !stored(key)) wantOpen = true;
    if (wantOpen) open();
    else if (!chat && wg.welcome && small() && wg.mobile.welcomeAsPrompt && !stored(key)) {
      mountChat().then((c) => c && !isOpen && c.prompt());
    } else if (!chat && stored(VT)) {
      (W.requestIdleCallback || setTimeout)(() => boot && mountChat());
    }
  }

  function draw(wg) {
    const ap = wg.appearance || {};
    const accent = /^#[0-9a-f]{6}$/i.test(ap.accentColor) ? ap.accentColor : "#2563eb";
    const rtl = (html.dir || getComputedStyle(html).direction) == "rtl";
    if (!host) {
      opt("inlineEmbedSelector", (v) => typeof v == "string" && (inline = D.querySelector(v)));
      host = D.createElement("div");
      host.id = "parley-chat";
      // Out of the page's flow and styles: no layout shift, no inherited CSS.
      // Inline, it fills the element the site gave it instead.
      host.style.cssText = inline
        ? "all:initial!important;display:block!important;position:relative!important;width:100%!important;height:100%!important"
        : "all:initial!important;position:fixed!important;bottom:0!important;right:0!important;width:0!important;height:0!important;z-index:2147483000!important";
      root = host.attachShadow({ mode: "open" });
      // The launcher's CSS as a constructed stylesheet, never a <style>
      // (avoidInlineStyles is always honoured), where the browser has them
      // (not Safari before 16.4).
      let sheet;
      try {
        (sheet = new CSSStyleSheet()).replaceSync(LAUNCHER_CSS);
        root.adoptedStyleSheets = [sheet];
      } catch (e) {
        sheet = 0;
      }
      root.innerHTML =
        (sheet ? "" : "<style>" + LAUNCHER_CSS + "</style>") +
        '<div class="pw"><button class="l" type="button" aria-expanded="false">' +
        ICONS +
        '<span class="lb"></span><span class="bd" aria-hidden="true" hidden></span></button></div>';
      wrap = root.lastChild;
      btn = wrap.firstChild;
      badge = btn.lastChild;
      label = badge.previousSibling;
      btn.onclick = () => {
        events.emit("userInteractedWithWidget");
        isOpen ? close(1) : open(true);
      };
      (inline || D.body || html).appendChild(host);
    }
    // The inline colours paint the launcher at once; the widget's theme
    // stylesheet (shades, focus ring, contrast-checked text colour, font
    // size, side) overrides them when it has loaded.
    const cls = wrap.classList;
    const st = wrap.style;
    st.setProperty("--a", accent);
    st.setProperty("--f", contrast(accent));
    st.setProperty("--fs", { small: "13px", large: "17px" }[ap.fontSize] || "15px");
    wrap.dir = rtl ? "rtl" : "ltr";
    cls.toggle("left", (ap.position == "left") != rtl);
    cls.toggle("in", !!inline);
    cls.toggle("mh", !!(wg.mobile && wg.mobile.hideLauncher));
    label.textContent = ap.launcherLabel || "";
    cls.toggle("wl", !!ap.launcherLabel);
    const th = boot.assets && boot.assets.theme;
    if (th && (!themeLink || themeLink.href != th)) {
      if (!themeLink) {
        themeLink = D.createElement("link");
        themeLink.rel = "stylesheet";
        root.insertBefore(themeLink, wrap);
      }
      themeLink.href = th;
    }
    render();
  }

  function render() {
    if (!btn) return;
    btn.setAttribute("aria-label", isOpen ? T("close") : T("open"));
    btn.setAttribute("aria-expanded", isOpen);
    wrap.classList.toggle("open", isOpen);
    wrap.classList.toggle("hide", status.showLauncher === false && !isOpen);
    watch();
  }

  // While no chat is mounted (the chat gets status on its WebSocket), a
  // stream of status events keeps the launcher live: it hides when nobody
  // is available and comes back as soon as someone is (docs/api.md).
  function watch() {
    const on = !chat && boot && boot.ws && W.EventSource;
    if (on && !stream && !streamWait) {
      const s = (stream = new EventSource(
        boot.ws.replace(/^ws/, "http").replace("/widget/v1/ws?", "/widget/v1/status?"),
      ));
      stream.onmessage = (e) => {
        try {
          status = JSON.parse(e.data).status || status;
        } catch (_) {}
        render();
      };
      // A refused stream (429: too many connections from this address) is
      // not retried by the browser: try again later, never in a loop.
      stream.onerror = () => {
        if (s != stream || s.readyState != 2) return;
        stream = null;
        streamWait = setTimeout(() => {
          streamWait = 0;
          watch();
        }, 30000 + Math.random() * 30000);
      };
    } else if (!on) {
      if (stream) stream.close();
      stream = null;
      clearTimeout(streamWait);
      streamWait = 0;
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
          if (opt("disableAttachment", bool)) b.widget.attachments = false;
          b.cookies = ck();
          return (chat = chat || m.mount(root, b, events, b.lang || "en", ctl, !!inline));
        },
        (e) => {
          chatLoading = null;
          warn(e.message);
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

  // close hides the panel; byVisitor remembers it for open-by-default.
  function close(byVisitor) {
    wantOpen = false;
    if (!isOpen || inline) return;
    isOpen = false;
    render();
    if (chat) chat.close();
    if (byVisitor === 1 && boot.widget.openByDefault) {
      const k = "parley.closed." + boot.widget.id;
      mountChat().then((c) => c && c.keep(k, 1));
    }
    events.emit("widgetClosed", { message: "Widget has been closed" });
  }

  function teardown() {
    gen++;
    if (stream) stream.close();
    stream = null;
    clearTimeout(streamWait);
    streamWait = 0;
    if (chat) chat.destroy();
    if (host) host.remove();
    chat = chatLoading = boot = host = root = wrap = btn = badge = inline = themeLink = null;
    loaded = isOpen = false;
    status = {};
  }

  function clear(opts) {
    [W.localStorage, W.sessionStorage].forEach((s) => {
      try {
        for (let i = s.length; i--; ) {
          const k = s.key(i);
          if (/^parley\./.test(k)) s.removeItem(k);
        }
      } catch (e) {
        // storage disabled: nothing to forget
      }
    });
    D.cookie.split(";").forEach((c) => {
      const k = c.split("=")[0].trim();
      if (/^parley/.test(k)) D.cookie = k + "=;max-age=0;path=/";
    });
    if (opts && opts.resetWidget === true) reload();
  }

  function reload() {
    if (started) {
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
      // refresh boots again for the current URL; openToNewThread: the
      // visitor's next message starts a new conversation, and the widget
      // opens.
      refresh(opts) {
        if (opts && opts.openToNewThread === true) fresh = wantOpen = true;
        if (started) runBoot();
      },
      status: () => ({ loaded, pending: bootSeq > 0 }),
    },
    clear,
    // An older HubSpot call: boots again with the current settings.
    resetAndReloadWidget: reload,
    on: events.on,
    off: events.off,
  };
  W.HubSpotConversations = W.ParleyConversations = sdk;

  addEventListener("hashchange", () => hashOpen() && open());

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
  if (opt("loadImmediately", bool) !== false && !started) load();
}

// VT is the localStorage key of the visitor token, one per site (chat.js).
const VT = "parley.visitor";
// CK holds the visitor's answer to the cookie notice (chat.js).
const CK = "parley.cookies";

function warn(what) {
  console.warn("Parley chat: " + what);
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
  ".l{position:fixed;bottom:20px;right:20px;min-width:60px;height:60px;margin:0;padding:0 15px;box-sizing:border-box;border:0;border-radius:30px;background:var(--a);color:var(--f);cursor:pointer;display:flex;gap:8px;align-items:center;justify-content:center;font:600 var(--fs) system-ui,sans-serif;box-shadow:0 6px 20px rgba(17,24,39,.22),0 2px 6px rgba(17,24,39,.12);transition:transform .18s ease;z-index:2}" +
  ".l:hover{transform:scale(1.06)}.l:active{transform:scale(.96)}" +
  ".l:focus{outline:0}.l:focus-visible{box-shadow:0 0 0 3px #fff,0 0 0 6px var(--a)}" +
  ".left .l{right:auto;left:20px}.hide .l,.in .l{display:none}" +
  ".l svg{flex:none;width:30px;height:30px;fill:currentColor}.l .x{display:none;width:26px;height:26px;fill:none;stroke:currentColor;stroke-width:2.5;stroke-linecap:round;stroke-linejoin:round}" +
  ".open .l .c,.open .lb,.lb:empty{display:none}.open .l .x{display:block}" +
  ".bd{position:absolute;top:-3px;right:-3px;min-width:22px;height:22px;padding:0 6px;box-sizing:border-box;border:2px solid #fff;border-radius:11px;background:#e11d48;color:#fff;font:700 12px/18px system-ui,sans-serif;text-align:center}" +
  ".bd[hidden]{display:none}" +
  "@media (max-width:480px){.mh .l{display:none}}" +
  "@media (prefers-reduced-motion:reduce){.l{transition:none}}";

const ICONS =
  '<svg class="c" viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3L4.3 21.6c-.1.4.3.7.7.5l4-2c1 .3 2 .4 3 .4 5.5 0 10-3.9 10-8.8S17.5 3 12 3z"/></svg>' +
  '<svg class="x" viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';
