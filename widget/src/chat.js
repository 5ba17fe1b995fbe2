// Parley's chat panel, an ES module the loader imports when it is needed. It
// draws the panel inside the loader's shadow root and speaks the visitor
// WebSocket protocol of docs/websocket.md.
//
// Delivery: every message the visitor sends gets a random clientId and waits
// in the outbox ("Sending…") until its message.ack. After a reconnect the
// panel says hello with the last seq it has and resends the whole outbox with
// the same clientIds; the server answers a repeated clientId with the first
// copy, so nothing is lost and nothing is doubled. Messages are deduplicated
// by id and kept in seq order.
//
// Before the first message: explicit consent (G1) disables the composer and
// shows the admin's text with an "I agree" button (consent.give); legitimate
// interest and consent to communicate (G2) show their texts as a note, and
// the server records them with the first message. Email capture (W4) asks
// "before" the first message (the composer waits for a valid email) or
// "after" it (a form in the conversation), never for a known or identified
// visitor (contact.email). contactAssociated fires once the chat is tied to
// a contact: a valid identification, or an email given.
//
// Storage: nothing is written until the visitor acts in the widget. The
// visitor token (localStorage "parley.visitor", one per site) is written when
// the server first gives one, which it does only in answer to the visitor's
// message, "I agree" or email; "parley.seen.<widgetId>" remembers the last
// seq shown, for the unread badge, and is written only while a token is
// stored. Identified visitors get no token: the page's identification is
// their credential. With the cookie notice on (enableWidgetCookieBanner),
// nothing is stored before the visitor accepts it ("parley.cookies" =
// "yes"); declined ("no"), the token stays in memory for as long as the page.
//
// Quick replies: a bot's question (a message with quickReplies) shows its
// options as buttons under it (quickReplies); a click fires the SDK event
// quickReplyButtonClick ({name: "QUICK_REPLIES", multiSelect: false, value:
// [option]}, HubSpot's payload) and sends the option as the visitor's
// message.

// Close codes after which reconnecting cannot help (docs/websocket.md).
const STOP = [1000, 1008, 1009, 4400, 4401, 4403, 4404];
const MAX_TEXT = 16384;
// Control characters the server refuses (all but tab, LF, CR).
const CTRL = /[\0-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/g;
// One plain address with a dotted domain; the server checks it again.
const EMAIL = /^[^\s@<>"(),;:]+@[^\s@<>"(),;:.]+(\.[^\s@<>"(),;:.]+)+$/;
const VT = "parley.visitor";
// CK holds the visitor's answer to the cookie notice: "yes" or "no".
const CK = "parley.cookies";
// HubSpot's settings Parley does not have (docs/api.md).
const UNSUPPORTED = ["isFullscreen", "shouldHideChatOnPrint", "enableEmailCapturedEvent"];
const FOCUSABLE = "button,textarea,input,a[href],[tabindex='0']";

const MAX_FILE = 15 << 20;
const MAX_FILES = 10;

const CLIP_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5 8.4 14.6a1.6 1.6 0 0 0 2.3 2.3l8.1-8.1a3.2 3.2 0 0 0-4.6-4.6l-8.4 8.4a4.8 4.8 0 0 0 6.8 6.8l7.4-7.4-1.4-1.4-7.4 7.4a2.8 2.8 0 0 1-4-4l8.4-8.4a1.2 1.2 0 0 1 1.8 1.8l-8.1 8.1-.1-.1z"/></svg>';
const SEND_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z"/></svg>';
const CHAT_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3C6.5 3 2 6.9 2 11.7c0 2.5 1.2 4.7 3.2 6.3L4.3 21.6c-.1.4.3.7.7.5l4-2c1 .3 2 .4 3 .4 5.5 0 10-3.9 10-8.8S17.5 3 12 3z"/></svg>';
const MIN_ICON =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 9l6 6 6-6"/></svg>';

/**
 * mount draws the chat panel (hidden) and connects to the visitor endpoint.
 * @param {ShadowRoot} root the loader's shadow root
 * @param {object} boot the boot answer (widget, assets, ws, identification)
 * @param {{emit(type:string, payload?:object):void}} events the SDK's emitter
 * @param {string} lang the language of boot.texts
 * @param {{open():void, close():void, status(s:object):void}} ctl the loader's controls
 * @param {boolean} inline the panel fills the page element the site chose
 * @returns {{open(focus:boolean):void, close():void, prompt():void, status(s:object):void,
 *   destroy():void}}
 */
export function mount(root, boot, events, lang, ctl, inline) {
  const T = texts(boot.texts);
  const wg = boot.widget;
  const ident = boot.identification || null;
  const SEEN = "parley.seen." + wg.id;
  const consent = wg.consent || {};
  const capture = (wg.emailCapture && wg.emailCapture.when) || "after";

  // With the cookie notice on (boot.cookies, enableWidgetCookieBanner),
  // nothing is stored until the visitor accepts; declined, the visitor
  // token lives in memory only, as long as the page.
  const mayStore = () => !boot.cookies || load(CK) == "yes";
  const keep = (k, v) => mayStore() && save(k, v);
  let token = ident ? null : load(VT);
  let leave = 0; // the conversation left by fresh(); true until ready names it
  let seen = +load(SEEN) || 0;
  let ws = null;
  let ready = false; // hello answered on the current socket
  let stopped = false;
  let destroyed = false;
  let attempt = 0;
  let timer = 0;
  let noticeTimer = 0;
  let typingTimer = 0;
  let lastTyping = 0;
  let thread = null; // {id, status}
  let lastSeq = 0;
  let isOpen = false;
  let unread = 0;
  let known = !!wg.known;
  // A bot answers first: the email capture (after) waits until it hands
  // off or closes (the thread says bot no more), then asks.
  let botRuns = !!wg.bot;
  let emailDue = false;
  let associated = false;
  let needConsent = consent.process == "explicit";
  let wantConsent = false; // "I agree" clicked, not yet recorded
  let wantEmail = null; // {cid, email} waiting for contact.email
  let promptEl = null;
  const byId = new Map(); // message id -> element
  let quick = null; // the quick replies on screen: {seq, el}
  const outbox = new Map(); // clientId -> {cid, text, files, el, failed}
  let grant = null; // {url, until}: where files go (upload.grant)
  const granted = []; // {ok, no} waiting for upload.granted

  // The panel. Static markup only; data goes in with textContent.
  const panel = el("section", "p" + (inline ? " in" : ""));
  panel.hidden = true;
  panel.setAttribute("role", inline ? "region" : "dialog");
  // The heading: a person's or a team's name, the admin's, or the default
  // ("Chat with us"); the widget's own name is for agents only.
  const title = wg.heading.name || T("heading");
  panel.setAttribute("aria-label", title);
  panel.innerHTML =
    // The head is a div: a <header> here would be a second banner
    // landmark on the customer's page.
    '<div class="h"><div class="av" aria-hidden="true"></div><div class="ht"><h2></h2><p class="st"></p></div>' +
    '<button class="mn" type="button">' +
    MIN_ICON +
    "</button></div>" +
    '<div class="lg" role="log" aria-live="polite" tabindex="0"></div>' +
    '<div class="ty" hidden></div><p class="nt" role="status"></p>' +
    '<div class="cs" role="group" hidden><p class="cx" dir="auto"></p><p class="cx" dir="auto"></p><button class="ok" type="button"></button></div>' +
    '<form class="ef" hidden novalidate><p class="eq" dir="auto"></p><div class="eg"><label for="pe"></label>' +
    '<input id="pe" type="email" autocomplete="email" maxlength="254" spellcheck="false"><button class="ok" type="submit"></button></div>' +
    '<p class="ee" role="alert"></p></form>' +
    '<form class="f"><label class="sr" for="pm"></label>' +
    (wg.attachments ? '<button class="at" type="button">' + CLIP_ICON + '</button><input class="fi" type="file" multiple hidden>' : "") +
    '<textarea id="pm" rows="1" autocomplete="off"></textarea>' +
    '<button class="sd" type="submit">' +
    SEND_ICON +
    "</button></form>";
  const $ = (s) => panel.querySelector(s);
  const $$ = (s) => panel.querySelectorAll(s);
  const log = $(".lg");
  const typingEl = $(".ty");
  const noticeEl = $(".nt");
  const form = $(".f");
  const ta = $("textarea");
  const sendBtn = $(".sd");
  const statusEl = $(".st");
  const consentEl = $(".cs");
  const agreeBtn = consentEl.lastChild;
  const emailForm = $(".ef");
  const emailIn = $("input");
  const emailErr = $(".ee");

  const av = $(".av");
  if (/^https?:\/\//.test(wg.heading.avatarUrl)) {
    const img = el("img");
    img.alt = "";
    img.src = wg.heading.avatarUrl;
    img.onerror = () => img.remove();
    av.appendChild(img);
  }
  // A name has its initial; the default heading, which names nobody, the
  // chat icon.
  if (title == T("heading")) av.insertAdjacentHTML("beforeend", CHAT_ICON);
  else av.append(title.trim().charAt(0).toUpperCase());
  $("h2").textContent = title;
  $(".mn").setAttribute("aria-label", T("min"));
  $(".mn").onclick = ctl.close;
  $("label.sr").textContent = T("msg");
  const attachBtn = $(".at");
  const fileIn = $(".fi");
  if (attachBtn) {
    attachBtn.setAttribute("aria-label", T("attach"));
    attachBtn.title = T("attach");
    fileIn.setAttribute("aria-label", T("attach"));
    attachBtn.onclick = () => {
      interacted();
      fileIn.click();
    };
    fileIn.onchange = () => {
      sendFiles([...fileIn.files]);
      fileIn.value = "";
    };
    ta.addEventListener("paste", (e) => {
      const files = [...((e.clipboardData && e.clipboardData.files) || [])];
      if (files.length) {
        e.preventDefault();
        sendFiles(files);
      }
    });
    panel.addEventListener("dragover", (e) => {
      if (!ta.disabled && e.dataTransfer && [...e.dataTransfer.types].includes("Files")) e.preventDefault();
    });
    panel.addEventListener("drop", (e) => {
      const files = [...((e.dataTransfer && e.dataTransfer.files) || [])];
      if (!files.length || ta.disabled) return;
      e.preventDefault();
      sendFiles(files);
    });
  }
  ta.placeholder = T("ph");
  sendBtn.setAttribute("aria-label", T("send"));
  log.setAttribute("aria-label", T("log"));
  consentEl.setAttribute("aria-label", T("privacy"));
  const [processText, communicateText] = $$(".cx");
  processText.textContent = consent.processText || "";
  communicateText.textContent = consent.communicate ? consent.communicateText || "" : "";
  agreeBtn.textContent = T("agree");
  $(".ef label").textContent = T("email");
  $(".ef .ok").textContent = T("emailGo");
  (root.querySelector(".pw") || root).appendChild(panel);

  // The cookie notice (enableWidgetCookieBanner): beside the launcher when
  // it is due (on load, or on exit intent: the pointer leaves the page
  // through its top edge), and in the open panel until the visitor answers.
  const cookieEl = el("section", "ck");
  cookieEl.hidden = true;
  cookieEl.setAttribute("aria-label", T("ck"));
  cookieEl.setAttribute("aria-live", "polite");
  const cookieText = cookieEl.appendChild(el("p"));
  const answers = el("div", "ca");
  [
    [T("ckYes"), "yes"],
    [T("ckNo"), "no"],
  ].forEach(([label, answer]) => {
    const b = el("button", "ok", label);
    b.type = "button";
    b.onclick = () => answerCookies(answer);
    answers.appendChild(b);
  });
  cookieEl.appendChild(answers);
  panel.before(cookieEl);
  const onExit = (e) => !e.relatedTarget && e.clientY <= 0 && showCookies();
  if (boot.cookies == "ON_EXIT_INTENT") document.addEventListener("mouseout", onExit);
  else showCookies();
  try {
    UNSUPPORTED.forEach((k) => window.hsConversationsSettings[k] && console.warn("Parley chat: " + k + ": not supported"));
  } catch (e) {
    // no settings, or a hostile getter: nothing to say
  }

  if (wg.welcome) {
    // The default heading names nobody: the welcome then has no sender line.
    const w = bubble("ag", wg.welcome, title == T("heading") ? "" : title);
    w.dataset.seq = 0;
    log.appendChild(w);
  }
  if (consent.process == "legitimate" || (consent.communicate && consent.process != "explicit")) {
    // Shown, not asked: chatting implies it (G1 legitimate interest, G2).
    const n = el("p", "sy lgt");
    [consent.process == "legitimate" && consent.processText, consent.communicate && consent.communicateText]
      .filter(Boolean)
      .forEach((t) => n.appendChild(el("span", "", t)).setAttribute("dir", "auto"));
    n.dataset.seq = 0;
    log.appendChild(n);
  }
  setStatus(wg.status || {});
  gate();

  panel.addEventListener("keydown", (e) => {
    if (e.key == "Escape" && !inline) {
      e.preventDefault();
      ctl.close();
    } else if (e.key == "Tab" && !inline) {
      // Keep focus inside the open dialog: Tab cycles.
      const f = [...$$(FOCUSABLE)].filter((n) => !n.disabled && n.getClientRects().length);
      const i = f.indexOf(root.activeElement);
      if (e.shiftKey ? i <= 0 : i == f.length - 1) {
        e.preventDefault();
        f[e.shiftKey ? f.length - 1 : 0].focus();
      }
    }
  });
  panel.addEventListener("pointerdown", interacted);
  // Enter sends, Shift+Enter is a newline. Some input paths deliver the
  // newline in a separate event that the keydown's preventDefault does not
  // cancel, so swallow a line break until the Enter key comes up.
  let swallow = false;
  ta.addEventListener("keydown", (e) => {
    swallow = false;
    if (e.key == "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      swallow = true;
      submit();
    }
  });
  ta.addEventListener("beforeinput", (e) => {
    if (swallow && /^insert(LineBreak|Paragraph)$/.test(e.inputType)) e.preventDefault();
  });
  ta.addEventListener("keyup", () => (swallow = false));
  ta.addEventListener("input", () => {
    interacted();
    grow();
    const now = Date.now();
    if (ready && thread && ta.value.trim() && now - lastTyping >= 2000) {
      lastTyping = now;
      send({ type: "typing" });
    }
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    submit();
    ta.focus();
  });
  agreeBtn.onclick = () => {
    interacted();
    agreeBtn.disabled = true;
    wantConsent = true;
    sendConsent();
  };
  emailIn.addEventListener("input", interacted);
  emailForm.addEventListener("submit", (e) => {
    e.preventDefault();
    interacted();
    const email = emailIn.value.trim();
    if (!EMAIL.test(email) || email.length > 254) {
      emailIn.setAttribute("aria-invalid", "true");
      emailErr.textContent = T("badEmail");
      emailIn.focus();
      return;
    }
    emailIn.removeAttribute("aria-invalid");
    emailErr.textContent = "";
    wantEmail = { cid: newId(), email };
    sendEmail();
  });
  addEventListener("online", reconnectNow);
  document.addEventListener("visibilitychange", reconnectNow);

  connect();

  const ui = {
    open(focus) {
      isOpen = true;
      panel.hidden = false;
      unprompt();
      showCookies();
      markRead();
      log.scrollTop = log.scrollHeight;
      if (focus) firstControl().focus({ preventScroll: true });
    },
    close() {
      isOpen = false;
      panel.hidden = true;
      panel.before(cookieEl);
    },
    // prompt shows the welcome message beside the launcher (small screens).
    prompt() {
      if (promptEl || isOpen || !wg.welcome) return;
      promptEl = el("div", "pr");
      const b = el("button", "po", wg.welcome);
      b.type = "button";
      b.dir = "auto";
      b.onclick = () => {
        interacted();
        ctl.open();
      };
      const x = el("button", "px", "×");
      x.type = "button";
      x.setAttribute("aria-label", T("dismiss"));
      x.onclick = () => {
        interacted();
        keep("parley.closed." + wg.id, 1);
        unprompt();
      };
      promptEl.append(b, x);
      panel.before(promptEl);
    },
    status: setStatus,
    keep,
    // fresh starts a new conversation: the next message leaves the one shown.
    fresh() {
      leave = thread ? thread.id : !ready;
      forget();
    },
    destroy() {
      destroyed = true;
      clearTimeout(timer);
      clearTimeout(noticeTimer);
      clearTimeout(typingTimer);
      removeEventListener("online", reconnectNow);
      document.removeEventListener("mouseout", onExit);
      cookieEl.remove();
      document.removeEventListener("visibilitychange", reconnectNow);
      drop(1000);
      unprompt();
      panel.remove();
    },
  };
  return ui;

  // --- connection ---

  function connect() {
    clearTimeout(timer);
    timer = 0;
    if (destroyed || stopped) return;
    if (boot.preview) {
      // The widget editor's preview: no server; ready as a new visitor.
      ready = true;
      return handle({
        type: "ready",
        status: wg.status,
        consentRequired: !!(consent && consent.process == "explicit"),
      });
    }
    ready = false;
    let s;
    try {
      s = ws = new WebSocket(boot.ws);
    } catch (e) {
      return retry(0);
    }
    s.onopen = () =>
      s.send(
        JSON.stringify({
          type: "hello",
          visitorToken: token || undefined,
          identificationEmail: ident ? ident.email : undefined,
          identificationToken: ident ? ident.token : undefined,
          lastSeq,
          pageUrl: location.href,
          lang,
        }),
      );
    s.onmessage = (e) => {
      if (s != ws) return;
      let d;
      try {
        d = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      (Array.isArray(d) ? d : [d]).forEach((ev) => ev && s == ws && handle(ev));
    };
    s.onclose = (e) => {
      if (s != ws) return;
      ws = null;
      ready = false;
      retry(e.code);
    };
  }

  function retry(code) {
    if (destroyed) return;
    if (STOP.includes(code)) {
      stopped = true;
      notice(T("gone"));
      return;
    }
    let delay = Math.min(10000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    if ((code == 4408 || code == 1001) && !attempt) delay = 0;
    // Too many messages or connections: wait longer each time it happens
    // again (10-15 s, then up to 60-90 s), so that many tabs behind one
    // address do not keep knocking.
    if (code == 4429)
      delay = Math.min(60000, 10000 * 2 ** Math.min(attempt, 3)) * (1 + Math.random() / 2);
    attempt++;
    timer = setTimeout(connect, delay);
    // Say so only if the outage lasts: a quick resume should not flicker.
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => (ws && ready ? 0 : notice(T("offline"))), 1500);
  }

  function reconnectNow() {
    if (timer && document.visibilityState != "hidden") connect();
  }

  // drop closes the current socket without triggering a reconnect.
  function drop(code) {
    const s = ws;
    ws = null;
    ready = false;
    if (!s) return;
    // Closing a socket that is still connecting makes browsers log a warning
    // on the host page; let it open first.
    if (s.readyState == 0) s.onopen = () => s.close(code);
    else s.close(code);
  }

  function send(ev) {
    if (boot.preview) return previewAnswer(ev);
    if (ws && ready) ws.send(JSON.stringify(ev));
  }

  // previewAnswer answers ev in the editor's preview as the server would:
  // a message is acknowledged as sent, consent and email are recorded.
  function previewAnswer(ev) {
    const reply = {
      "message.send": () => ({
        type: "message.ack",
        clientId: ev.clientId,
        message: {
          id: "preview-" + ev.clientId,
          threadId: "preview",
          seq: lastSeq + 1,
          type: "MESSAGE",
          direction: "INCOMING",
          text: ev.text,
          createdAt: new Date().toISOString(),
        },
      }),
      "consent.give": () => ({ type: "consent.recorded" }),
      "contact.email": () => ({ type: "contact.email", email: ev.email }),
    }[ev.type];
    if (reply) setTimeout(() => destroyed || handle(reply()), 0);
  }

  function sendConsent() {
    if (wantConsent) send({ type: "consent.give", clientId: "k", version: consent.processVersion || "" });
  }

  function sendEmail() {
    if (wantEmail) {
      emailForm.querySelector(".ok").disabled = true;
      send({ type: "contact.email", clientId: wantEmail.cid, email: wantEmail.email });
    }
  }

  // --- events from the server ---

  function handle(ev) {
    switch (ev.type) {
      case "ready": {
        if (leave === true) leave = ev.thread ? ev.thread.id : 0;
        // The conversation the visitor left is not shown.
        const cur = ev.thread && ev.thread.id != leave ? ev.thread : null;
        const tid = cur ? cur.id : null;
        if (thread && thread.id != tid) {
          // Not the thread we were showing (the server forgot us, or the
          // token was cleared): start over from an empty log.
          forget();
          if (tid) {
            drop(4000);
            return connect();
          }
        }
        thread = cur;
        if (cur) botRunning(cur);
        ready = true;
        attempt = 0;
        clearTimeout(noticeTimer);
        notice("");
        if (ev.status) setStatus(ev.status);
        if (ev.known) known = true;
        needConsent = !!ev.consentRequired;
        if (ev.identified) associate(ev.visitorId);
        gate();
        sendConsent();
        sendEmail();
        outbox.forEach((p) => p.failed || transmit(p));
        break;
      }
      case "identity":
        token = ev.visitorToken;
        keep(VT, token);
        break;
      case "consent.recorded":
        wantConsent = false;
        needConsent = false;
        gate();
        if (isOpen) firstControl().focus({ preventScroll: true });
        break;
      case "contact.email": {
        const inLog = emailForm.parentNode == log;
        wantEmail = null;
        known = true;
        gate();
        if (inLog) {
          const n = el("p", "sy", T("thanks", { email: ev.email }));
          place(n, +emailForm.dataset.seq, true); // where the form was
          emailForm.remove();
        }
        associate(ev.visitorId);
        if (isOpen && !inLog) ta.focus({ preventScroll: true });
        break;
      }
      case "upload.granted":
        grant = { url: ev.url, until: Date.now() + 9 * 60e3 };
        granted.splice(0).forEach((f) => f.ok(ev.url));
        break;
      case "message.ack":
        add(ev.message, ev.clientId);
        break;
      case "message.created":
        add(ev.message);
        break;
      case "thread.deleted":
        // Deleted for good: the next message starts a new conversation.
        if (thread && ev.threadId == thread.id) forget();
        break;
      case "thread.updated":
        if (ev.thread && thread && ev.thread.id == thread.id) {
          const was = thread.status;
          thread = ev.thread;
          botRunning(thread);
          if (was != "CLOSED" && thread.status == "CLOSED") {
            events.emit("conversationClosed", { conversation: { conversationId: +thread.id } });
          }
        }
        break;
      case "typing":
        stick(() => {
          typingEl.textContent = (ev.name ? T("typingName", { name: ev.name }) : T("typing"));
          typingEl.hidden = false;
        });
        clearTimeout(typingTimer);
        typingTimer = setTimeout(hideTyping, 3000);
        break;
      case "status":
        setStatus(ev.status || {});
        break;
      case "error":
        failed(ev);
        break;
    }
  }

  // add shows a message once, in seq order. ackFor is the clientId of an ack.
  function add(m, ackFor) {
    if (!m || !m.id) return;
    let ask = false;
    const cid = ackFor || (m.direction == "INCOMING" && m.clientId);
    const p = cid && outbox.get(cid);
    // Only the conversation shown: not one the visitor left.
    if (!p && !ackFor && (m.threadId == leave || (thread && m.threadId != thread.id))) return;
    if (p) outbox.delete(cid);
    if (p || ackFor) {
      // Our own message is durable.
      if (!thread || thread.id != m.threadId) {
        const started = !thread;
        thread = { id: m.threadId, status: "OPEN" };
        lastSeq = 0;
        if (started) events.emit("conversationStarted", { conversation: { conversationId: +m.threadId } });
      }
      ask = capture == "after" && !known && emailForm.hidden;
    } else if (!thread && m.threadId) {
      thread = { id: m.threadId, status: "OPEN" };
    }
    if (thread && m.threadId == thread.id && m.seq > lastSeq) lastSeq = m.seq;
    if (byId.has(m.id)) {
      if (p) p.el.remove();
      return;
    }
    let n;
    if (m.type == "THREAD_STATUS_CHANGE") {
      n = el("p", "sy", m.newStatus == "CLOSED" ? T("closed") : T("reopened"));
    } else if (m.type == "MESSAGE") {
      const mine = m.direction == "INCOMING";
      n = p ? p.el : bubble(mine ? "me" : "ag", m.text, mine ? "" : m.senderName);
      n.classList.remove("pe", "er");
      if (m.attachments && m.attachments.length) fileList(n, m.attachments);
      meta(n, time(m.createdAt));
      if (!mine) {
        hideTyping();
        if (!isOpen && m.seq > seen) {
          setUnread(1);
        }
      }
    } else {
      return; // notes and assignments are not for visitors
    }
    byId.set(m.id, n);
    place(n, m.seq, !!p);
    if (ask && botRuns) emailDue = true;
    else if (ask) askEmailAfter(m.seq);
    quickReplies(m, n);
    if (isOpen) markRead();
  }

  // --- quick replies (a bot's question) ---

  // quickReplies shows the buttons of message m (element n) when it offers
  // any, and takes down older ones once a later message arrives: only the
  // latest question can be answered. A click sends the option as the
  // visitor's message and fires the SDK's quickReplyButtonClick.
  function quickReplies(m, n) {
    if (quick && m.seq > quick.seq) {
      quick.el.remove();
      quick = null;
    }
    const options = m.direction == "OUTGOING" && Array.isArray(m.quickReplies) ? m.quickReplies : [];
    if (!options.length || m.seq < lastSeq || (quick && quick.seq >= m.seq)) return;
    const g = el("div", "qr");
    g.setAttribute("role", "group");
    g.setAttribute("aria-label", T("qr"));
    g.dataset.seq = m.seq;
    options.forEach((value) => {
      const b = el("button", "", String(value));
      b.type = "button";
      b.onclick = () => {
        if (quick && quick.el == g) quick = null;
        g.remove();
        events.emit("quickReplyButtonClick", { name: "QUICK_REPLIES", multiSelect: false, value: [String(value)] });
        const draft = ta.value;
        ta.value = String(value);
        submit();
        ta.value = draft;
        grow();
        ta.focus();
      };
      g.appendChild(b);
    });
    quick = { seq: m.seq, el: g };
    stick(() => n.after(g));
  }

  function failed(ev) {
    if (!ev.clientId && granted.length) {
      granted.splice(0).forEach((f) => f.no(ev));
      return;
    }
    if (wantEmail && ev.clientId == wantEmail.cid) {
      wantEmail = null;
      emailForm.querySelector(".ok").disabled = false;
      emailIn.setAttribute("aria-invalid", "true");
      emailErr.textContent = ev.code == "invalid" ? T("badEmail") : ev.message || T("err.x");
      return;
    }
    if (ev.code == "consent_required") {
      needConsent = true;
      gate();
    }
    if (ev.clientId == "k") {
      wantConsent = false;
      agreeBtn.disabled = false;
      return notice((ev.code && T.has("err." + ev.code) ? T("err." + ev.code) : ev.message || T("err.x")));
    }
    const p = ev.clientId && outbox.get(ev.clientId);
    if (!p) return notice(ev.message || T("err.x"));
    p.failed = true;
    p.el.classList.remove("pe");
    p.el.classList.add("er");
    const b = el("button", "", T("retry"));
    b.type = "button";
    b.onclick = () => {
      p.failed = false;
      p.el.classList.replace("er", "pe");
      if (p.text == "" && !p.files) {
        // The upload itself failed: the visitor picks the files again.
        p.el.remove();
        outbox.delete(p.cid);
        if (fileIn) fileIn.click();
        return;
      }
      meta(p.el, T("sending"));
      transmit(p);
    };
    stick(() => meta(p.el, (ev.code && T.has("err." + ev.code) ? T("err." + ev.code) : T("err.x") + " " + (ev.message || "")), b));
  }

  // --- sending ---

  function submit() {
    if (ta.disabled) return;
    const text = ta.value.replace(CTRL, "").trim();
    if (!text) return;
    if (new TextEncoder().encode(text).length > MAX_TEXT) return notice(T("err.too_large"));
    ta.value = "";
    grow();
    sendText(text);
  }

  function sendText(text) {
    interacted();
    notice("");
    const p = { cid: newId(), text, leave, el: bubble("me pe", text, "") };
    meta(p.el, T("sending"));
    outbox.set(p.cid, p);
    log.appendChild(p.el);
    log.scrollTop = log.scrollHeight;
    transmit(p);
  }

  function transmit(p) {
    if (p.uploading) return;
    const ev = { type: "message.send", clientId: p.cid, text: p.text, leave: p.leave || undefined };
    if (p.files) ev.attachments = p.files;
    send(ev);
  }

  // --- files ---

  // sendFiles uploads files (over HTTP, never the socket) and sends them as
  // one message. Each must be at most MAX_FILE; the server decides what
  // they are.
  function sendFiles(files) {
    interacted();
    notice("");
    if (ta.disabled || !files.length) return;
    if (files.length > MAX_FILES) return notice(T("tooManyFiles"));
    const big = files.find((f) => f.size > MAX_FILE);
    if (big) return notice(T("fileTooLarge", { name: big.name }));
    const p = { cid: newId(), text: "", leave, uploading: true, el: bubble("me pe", "", "") };
    fileList(p.el, files.map((f) => ({ name: f.name, size: f.size })));
    meta(p.el, T("uploading"));
    outbox.set(p.cid, p);
    log.appendChild(p.el);
    log.scrollTop = log.scrollHeight;
    uploadURL()
      .then((url) => Promise.all(files.map((f) => upload(url, f))))
      .then(
        (ids) => {
          p.uploading = false;
          p.files = ids;
          meta(p.el, T("sending"));
          transmit(p);
        },
        (e) => {
          p.uploading = false;
          failed({ clientId: p.cid, code: e.code || "x", message: e.message || "" });
        },
      );
  }

  // uploadURL resolves to where files may be uploaded now.
  function uploadURL() {
    if (grant && grant.until > Date.now()) return Promise.resolve(grant.url);
    return new Promise((ok, no) => {
      granted.push({ ok, no });
      if (granted.length == 1) send({ type: "upload.grant" });
      if (!ready) no({ code: "unavailable" });
    });
  }

  function upload(url, file) {
    const body = new FormData();
    body.append("file", file, file.name);
    return fetch(url, { method: "POST", body, credentials: "omit" }).then((r) =>
      r.json().then(
        (j) => {
          if (r.ok) return j.id;
          if (r.status == 401) grant = null;
          throw { code: j.code || (r.status == 413 ? "too_large" : "x"), message: j.message };
        },
        () => {
          throw { code: r.status == 413 ? "too_large" : "x" };
        },
      ),
    );
  }

  // --- view ---

  // gate shows what must come before chatting (consent, then an email for
  // capture "before") and disables the composer until it is done.
  function gate() {
    const before = capture == "before" && !known;
    consentEl.hidden = !needConsent;
    agreeBtn.disabled = wantConsent;
    if (before) {
      emailForm.querySelector(".eq").textContent = (wg.emailCapture && wg.emailCapture.message) || T("emailBefore");
      emailForm.hidden = needConsent;
    } else if (known || emailForm.parentNode != log) {
      emailForm.hidden = true;
    }
    ta.disabled = sendBtn.disabled = needConsent || before;
    if (attachBtn) attachBtn.disabled = ta.disabled;
  }

  // botRunning follows whether the bot still answers thread t; once it is
  // done, the email capture that waited for it asks.
  function botRunning(t) {
    if (!botRuns || t.bot) return;
    botRuns = false;
    if (emailDue && capture == "after" && !known && emailForm.hidden) askEmailAfter(lastSeq);
    emailDue = false;
  }

  // askEmailAfter shows the email form in the conversation, after the
  // visitor's first message (seq); later messages come after it.
  function askEmailAfter(seq) {
    emailForm.querySelector(".eq").textContent = (wg.emailCapture && wg.emailCapture.message) || T("emailAfter");
    emailForm.hidden = false;
    place(emailForm, seq + 0.5, true);
  }

  // firstControl is where focus goes when the panel opens.
  function firstControl() {
    if (needConsent) return agreeBtn;
    if (!emailForm.hidden && emailForm.parentNode != log) return emailIn;
    return ta;
  }

  // forget empties the log of the conversation shown.
  function forget() {
    [...byId.values()].forEach((n) => n.remove());
    byId.clear();
    lastSeq = 0;
    thread = null;
    if (quick) quick.el.remove();
    quick = null;
    if (emailForm.parentNode == log) emailForm.hidden = true;
  }

  // showCookies shows the cookie notice while the visitor has not answered
  // it: in the panel when it is open, else beside the launcher.
  function showCookies() {
    if (!boot.cookies || load(CK)) return;
    // New text in a live region is announced; a region that only
    // appears may not be.
    cookieText.textContent = T("ckText");
    cookieEl.hidden = false;
    if (isOpen) panel.insertBefore(cookieEl, consentEl);
  }

  // answerCookies keeps the visitor's answer. Accepted, what the chat holds
  // in memory is stored now; declined, what was stored goes.
  function answerCookies(answer) {
    interacted();
    save(CK, answer);
    cookieEl.hidden = true;
    if (answer == "yes") {
      if (token) save(VT, token);
      if (token && seen) save(SEEN, seen);
    } else {
      [VT, SEEN, "parley.closed." + wg.id].forEach((k) => {
        try {
          localStorage.removeItem(k);
        } catch (e) {
          // storage disabled: nothing was stored
        }
      });
    }
    if (isOpen) firstControl().focus({ preventScroll: true });
  }

  function associate(visitorId) {
    if (associated) return;
    associated = true;
    events.emit("contactAssociated", {
      message: "Conversation associated with a contact",
      visitor: { id: visitorId || "" },
    });
  }

  function unprompt() {
    if (promptEl) promptEl.remove();
    promptEl = null;
  }

  function setStatus(s) {
    panel.classList.toggle("on", !!s.available);
    statusEl.textContent = s.available
      ? s.typicalResponseTime || T("online")
      : [s.awayMessage || s.typicalResponseTime || T("awayMessage"), backAt(s.nextOpenAt, lang, T)]
          .filter(Boolean)
          .join(" ");
    ctl.status(s);
  }

  function markRead() {
    if (lastSeq > seen) {
      seen = lastSeq;
      if (load(VT)) keep(SEEN, seen);
    }
    setUnread(0);
  }

  function setUnread(n) {
    if (n != unread) {
      unread = n;
      events.emit("unreadConversationCountChanged", { unreadCount: n });
    }
  }

  function interacted() {
    events.emit("userInteractedWithWidget");
  }

  function hideTyping() {
    typingEl.hidden = true;
  }

  function notice(text) {
    noticeEl.textContent = text;
  }

  function grow() {
    ta.style.height = "";
    // scrollHeight leaves out the border that box-sizing:border-box counts.
    ta.style.height = Math.min(ta.scrollHeight + ta.offsetHeight - ta.clientHeight, 120) + "px";
  }

  // place puts a confirmed message after every message with a lower seq and
  // before those still being sent.
  function place(n, seq, own) {
    stick(() => {
      n.dataset.seq = seq;
      let ref = null;
      for (let c = log.lastElementChild; c; c = c.previousElementSibling) {
        if (c.dataset.seq != null && +c.dataset.seq < seq) break;
        ref = c;
      }
      if (n.nextSibling != ref || n.parentNode != log) log.insertBefore(n, ref);
    }, own);
  }

  // stick runs a change to the view and keeps the log scrolled to its end if
  // it was there (or if force is set), so new content is never hidden.
  function stick(change, force) {
    const end = log.scrollHeight - log.scrollTop - log.clientHeight < 40;
    change();
    if (end || force) log.scrollTop = log.scrollHeight;
  }
}

function bubble(cls, text, who) {
  const n = el("div", "m " + cls);
  if (who) n.appendChild(el("span", "who", who));
  const b = el("div", "b");
  linkify(b, text);
  b.dir = "auto";
  n.appendChild(b);
  n.appendChild(el("span", "mt"));
  return n;
}

// linkify appends text to node with its http, https and mailto addresses as
// links that open in a new tab, without referrer or opener. The text never
// goes through the HTML parser; trailing punctuation and unopened closing
// brackets stay outside the link.
function linkify(node, text) {
  const re = /\b(?:https?:\/\/(?=[^\s<>"/])|mailto:)[^\s<>"]+/gi;
  const pairs = { ")": "(", "]": "[", "}": "{" };
  const n = (s, c) => s.split(c).length - 1;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    let raw = m[0];
    for (let c = raw.slice(-1); /[.,;:!?'*_]/.test(c) || (pairs[c] && n(raw, c) > n(raw, pairs[c])); c = raw.slice(-1)) {
      raw = raw.slice(0, -1);
    }
    let href = "";
    try {
      const u = new URL(raw);
      if (/^(https?|mailto):$/.test(u.protocol) && (u.protocol == "mailto:" ? u.pathname.includes("@") : u.hostname)) href = u.href;
    } catch (e) {
      // not an address: stays text
    }
    if (!href) continue;
    node.append(text.slice(last, m.index));
    const a = el("a", "", raw);
    a.href = href;
    a.target = "_blank";
    a.rel = "noopener noreferrer nofollow";
    node.appendChild(a);
    re.lastIndex = last = m.index + raw.length;
  }
  node.append(text.slice(last));
}

// fileList shows files in message element n, replacing any shown: images
// the server checked (inline) as thumbnails, everything else as a named
// link with its size. Before upload, files have no url and show as names.
function fileList(n, files) {
  const old = n.querySelector(".fl");
  if (old) old.remove();
  const box = el("div", "fl");
  files.forEach((f) => {
    const url = /^https?:\/\//.test(f.url || "") ? f.url : "";
    if (url && f.inline) {
      const a = el("a", "im");
      a.href = url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      const img = el("img");
      img.alt = f.name;
      img.src = url;
      img.loading = "lazy";
      if (f.width && f.height) {
        img.width = Math.min(f.width, 220);
        img.height = Math.round((img.width * f.height) / f.width);
      }
      a.appendChild(img);
      box.appendChild(a);
      return;
    }
    const a = el(url ? "a" : "span", "fa");
    if (url) {
      a.href = url;
      a.rel = "noopener noreferrer";
      a.download = f.name;
    }
    a.append(el("span", "fn", f.name), el("span", "fs", size(f.size)));
    a.dir = "auto";
    box.appendChild(a);
  });
  n.insertBefore(box, n.lastChild);
}

function size(n) {
  return n >= 1 << 20 ? (n / (1 << 20)).toFixed(1) + " MB" : n >= 1024 ? Math.round(n / 1024) + " KB" : n + " B";
}

function meta(n, text, extra) {
  const m = n.lastChild;
  m.textContent = text;
  if (extra) m.appendChild(extra);
}

function el(tag, cls, text) {
  const n = document.createElement(tag);
  if (cls) n.className = cls;
  if (text != null) n.textContent = text;
  return n;
}

function time(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

function newId() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return "c-" + Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
}

function load(key) {
  try {
    return localStorage.getItem(key);
  } catch (e) {
    return null;
  }
}

function save(key, value) {
  try {
    localStorage.setItem(key, value);
  } catch (e) {
    // storage disabled: the visitor stays anonymous after a reload
  }
}

// --- availability (C3): when business hours open again ---

/**
 * backAt says when the chat is back, from status.nextOpenAt (an RFC 3339
 * instant), in the visitor's own time zone and the widget's language: "Back
 * at 09:00", "Back tomorrow at 09:00", "Back on Monday at 09:00"; "" without
 * one.
 * @param {string|undefined} iso
 * @param {string} lang
 * @param {(key: string, args?: object) => string} T
 */
function backAt(iso, lang, T) {
  const at = new Date(iso || "");
  if (!iso || isNaN(at)) return "";
  const fmt = (o) => new Intl.DateTimeFormat(lang, o).format(at);
  const time = fmt({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  const day = (d) => new Date(d.getFullYear(), d.getMonth(), d.getDate());
  const days = Math.round((day(at) - day(new Date())) / 864e5);
  if (days <= 0) return T("backAt", { time });
  if (days == 1) return T("backTomorrow", { time });
  return T("backOn", { day: fmt(days < 7 ? { weekday: "long" } : { weekday: "long", day: "numeric", month: "long" }), time });
}

/**
 * texts makes the lookup of the widget's texts (the boot answer's texts,
 * locale/widget/<lang>.json): T(key) is the text, T(key, {name}) fills its
 * {name} placeholders, a missing key gives the key itself; T.has(key) says
 * whether there is one.
 * @param {Object<string,string>|undefined} m
 */
export function texts(m) {
  m = m || {};
  const has = (k) => Object.prototype.hasOwnProperty.call(m, k);
  const T = (k, args) => {
    const s = has(k) ? m[k] : k;
    return args ? s.replace(/\{(\w+)\}/g, (x, n) => (n in args ? String(args[n]) : x)) : s;
  };
  T.has = has;
  return T;
}
