/* Contexo chat widget: <script src="https://GATEWAY/widget.js" data-widget-id="ID" async></script>
   Optional data-api-base. The widget's appearance (accent colour, light/dark/auto, side, title,
   initials, suggested questions, language of its fixed texts) comes with its public configuration.
   Server text becomes DOM text nodes only: answers render a Markdown subset
   (paragraphs, lists, `code`, fenced code, **bold**, http(s) links) built node by node, never
   innerHTML. window.__contexoDebug = true records events in window.__contexoEvents and exposes
   the renderer as window.__contexoMarkdown (for tests). */
(() => {
  'use strict';
  const script = document.currentScript || document.querySelector('script[data-widget-id][src*="widget.js"]');
  const id = script && script.getAttribute('data-widget-id');
  if (!id || document.querySelector(`contexo-widget[data-widget-id="${CSS.escape(id)}"]`)) return;
  const base = (script.getAttribute('data-api-base') || new URL(script.src, location.href).origin).replace(/\/+$/, '');
  const api = `${base}/widget/v1/widgets/${encodeURIComponent(id)}`;
  const KEY = `contexo.session.${id}`;
  const DARK = '--bg:#16181d;--fg:#e6e8eb;--mb:#262a31;--bd:#3a3f47;--in:#8b949e;--mu:#a7afba;--er:#ff9b9b;--fo:#fff';
  const CSS_TEXT = `:host{all:initial}*{box-sizing:border-box}
.w{--a:#1d4ed8;--on:#fff;--bg:#fff;--fg:#1f2328;--mb:#f1f3f5;--bd:#d0d7de;--in:#6b7280;--mu:#4b5563;--er:#9a1c1c;--fo:#111827;font:15px/1.45 system-ui,sans-serif;color:var(--fg)}
.w[data-theme=dark]{${DARK}}@media (prefers-color-scheme:dark){.w[data-theme=auto]{${DARK}}}
button,textarea{font:inherit;color:inherit}
.l,.p{position:fixed;right:20px;z-index:2147483000}[data-pos=left] .l,[data-pos=left] .p{left:20px;right:auto}
.l{bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--a);color:var(--on);cursor:pointer;box-shadow:0 4px 14px #0005;display:grid;place-items:center}
.l:hover{filter:brightness(.9)}.l svg{width:26px;fill:currentColor}
:focus-visible{outline:3px solid var(--fo);outline-offset:2px;box-shadow:0 0 0 2px var(--bg)}
.p{bottom:88px;width:min(380px,calc(100vw - 24px));height:min(560px,calc(100vh - 110px));display:flex;flex-direction:column;background:var(--bg);border:1px solid var(--bd);border-radius:12px;box-shadow:0 12px 32px #0004;overflow:hidden}
.p[hidden]{display:none}.h{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--a);color:var(--on)}
.av{width:28px;height:28px;border-radius:50%;background:var(--on);color:var(--a);display:grid;place-items:center;font-size:12px;font-weight:700}.av:empty{display:none}
h2{flex:1;margin:0;font-size:16px}.x{border:0;background:none;color:var(--on);font-size:22px;width:32px;height:32px;cursor:pointer}
.g{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px}
.m{max-width:88%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere;align-self:flex-start;background:var(--mb)}
.m[data-role=visitor]{align-self:flex-end;background:var(--a);color:var(--on)}
.s{display:flex;flex-direction:column;align-items:flex-start;gap:6px}.s button{border:1px solid var(--a);border-radius:14px;padding:4px 11px;background:none;cursor:pointer;text-align:left}
[data-status=failed] .t,.n{color:var(--er)}.n{margin:0 12px 8px;font-size:14px}.n:empty,.c:empty{display:none}
[data-status=streaming] .t:empty::after{content:"\\2026";font-weight:700}
.t p{margin:0 0 .5em}.t p:last-child{margin:0}.t ul,.t ol{margin:0 0 .5em;padding-left:1.3em;white-space:normal}
.t pre{margin:0 0 .5em;padding:6px 8px;background:var(--bg);border:1px solid var(--bd);border-radius:6px;overflow-x:auto;white-space:pre}
.t code{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}.t a,.c a{color:inherit}
.c{margin:6px 0 0;padding:0;list-style:none;font-size:13px;white-space:normal}.c span{color:var(--mu)}
.k{display:flex;gap:4px;margin-top:6px;flex-wrap:wrap;white-space:normal}.k button{border:1px solid var(--bd);border-radius:8px;background:none;cursor:pointer;padding:3px 6px;line-height:0}.k svg{width:16px;height:16px;fill:currentColor}
.k [aria-pressed=true]{border-color:var(--a);background:var(--a);color:var(--on)}.k input{flex:1;min-width:8em;border:1px solid var(--in);border-radius:6px;padding:2px 6px;background:var(--bg);color:inherit;font:inherit;font-size:13px}.k span{font-size:13px;color:var(--mu)}
.hb{margin:0 12px 6px;align-self:flex-start;border:1px solid var(--a);border-radius:14px;padding:3px 11px;background:none;cursor:pointer}.hb[hidden]{display:none}
.ho{display:flex;flex-direction:column;gap:6px;padding:8px 11px;border:1px solid var(--bd);border-radius:12px;white-space:normal}.ho input[type=email],.ho textarea{border:1px solid var(--in);border-radius:6px;padding:5px 7px;background:var(--bg);color:inherit;font:inherit}
.ho label{font-size:13px}.ho button{align-self:flex-start;border:0;border-radius:8px;padding:5px 12px;background:var(--a);color:var(--on);font-weight:600;cursor:pointer}
.f{display:flex;gap:8px;padding:10px;border-top:1px solid var(--bd)}
textarea{flex:1;resize:none;min-height:42px;max-height:120px;padding:8px;border:1px solid var(--in);border-radius:8px;background:var(--bg)}
.f button{border:0;border-radius:8px;padding:0 14px;background:var(--a);color:var(--on);font-weight:600;cursor:pointer}
.f :disabled{opacity:.55;cursor:not-allowed}.v{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@media (prefers-reduced-motion:no-preference){.p{animation:i .16s ease-out}[data-status=streaming] .t:empty::after{animation:b 1s infinite}
@keyframes i{from{opacity:0;transform:translateY(8px)}}@keyframes b{50%{opacity:.3}}}`;

  const host = document.createElement('contexo-widget');
  host.setAttribute('data-widget-id', id);
  const root = host.attachShadow({ mode: 'open' });
  root.innerHTML = `<div class="w"><button class="l" type="button" aria-expanded="false" aria-controls="p">
<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg></button>
<section class="p" id="p" role="dialog" aria-modal="false" aria-labelledby="t" hidden>
<div class="h"><span class="av" aria-hidden="true"></span><h2 id="t"></h2><button class="x" type="button">\u00d7</button></div>
<div class="g" role="log" aria-live="polite"></div><p class="n" role="status"></p><button class="hb" type="button" hidden></button>
<form class="f"><label class="v" for="q"></label><textarea id="q" rows="1" maxlength="2000"></textarea>
<button type="submit"></button></form></section></div>`;
  const $ = (s) => root.querySelector(s);
  const [frame, launcher, panel, title, log, note, form, input, sendButton, closer, avatar, label, talk] =
    ['.w', '.l', '.p', '#t', '.g', '.n', '.f', '#q', '.f button', '.x', '.av', 'label', '.hb'].map($);
  if (root.adoptedStyleSheets && CSSStyleSheet.prototype.replaceSync) {  // not blocked by a page's style-src CSP
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS_TEXT);
    root.adoptedStyleSheets = [sheet];
  } else root.prepend(Object.assign(document.createElement('style'), { textContent: CSS_TEXT }));

  // The fixed texts, per language: ask, your question, send, close, chat with, not available, could
  // not load, unreachable, retry, limit, too many (wait …), a moment, seconds, too long, cut off,
  // not completed, source, page, helpful, not helpful, what was missing, thanks; and the handoff's:
  // talk to a person, email, note, consent, send request, sent, invalid email.
  const TEXTS = {
    en: ['Ask a question', 'Your question', 'Send', 'Close chat', 'Chat with', 'This assistant is not available on this site.', 'The assistant could not load. Close and reopen to try again.', 'Could not reach the assistant. Check your connection and try again.', 'Something went wrong. Please try again.', 'The assistant has reached its limit for now.', 'Too many messages, wait', 'a moment', 'seconds', 'That message is too long.', 'The answer was cut off. Please try again.', 'This answer could not be completed.', 'Source', 'page', 'Helpful', 'Not helpful', 'What was missing? (optional)', 'Thanks for your feedback.', 'Talk to a person', 'Your email address', 'Anything to add? (optional)', 'I agree to be contacted at this address about my question; it is kept only for this.', 'Send request', 'Sent. Someone will reply to you by email.', 'Please enter a valid email address.'],
    de: ['Stellen Sie eine Frage', 'Ihre Frage', 'Senden', 'Chat schließen', 'Chat mit', 'Dieser Assistent ist auf dieser Website nicht verfügbar.', 'Der Assistent konnte nicht laden. Schließen und erneut öffnen.', 'Der Assistent ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.', 'Etwas ist schiefgegangen. Bitte versuchen Sie es erneut.', 'Der Assistent hat sein Limit vorerst erreicht.', 'Zu viele Nachrichten, warten Sie', 'einen Moment', 'Sekunden', 'Diese Nachricht ist zu lang.', 'Die Antwort wurde abgebrochen. Bitte versuchen Sie es erneut.', 'Diese Antwort konnte nicht fertiggestellt werden.', 'Quelle', 'Seite', 'Hilfreich', 'Nicht hilfreich', 'Was hat gefehlt? (optional)', 'Danke für Ihr Feedback.', 'Mit einer Person sprechen', 'Ihre E-Mail-Adresse', 'Möchten Sie etwas ergänzen? (optional)', 'Ich bin einverstanden, unter dieser Adresse zu meiner Frage kontaktiert zu werden; sie wird nur dafür gespeichert.', 'Anfrage senden', 'Gesendet. Jemand antwortet Ihnen per E-Mail.', 'Bitte geben Sie eine gültige E-Mail-Adresse ein.'],
    fr: ['Posez une question', 'Votre question', 'Envoyer', 'Fermer le chat', 'Discuter avec', "Cet assistant n'est pas disponible sur ce site.", "L'assistant n'a pas pu se charger. Fermez et rouvrez pour réessayer.", "Impossible de joindre l'assistant. Vérifiez votre connexion et réessayez.", "Une erreur s'est produite. Veuillez réessayer.", "L'assistant a atteint sa limite pour le moment.", 'Trop de messages, attendez', 'un instant', 'secondes', 'Ce message est trop long.', 'La réponse a été interrompue. Veuillez réessayer.', "Cette réponse n'a pas pu être terminée.", 'Source', 'page', 'Utile', 'Pas utile', "Qu'est-ce qui manquait ? (facultatif)", 'Merci pour votre avis.', 'Parler à une personne', 'Votre adresse e-mail', 'Autre chose à ajouter ? (facultatif)', "J'accepte d'être contacté à cette adresse au sujet de ma question ; elle n'est conservée que pour cela.", 'Envoyer la demande', 'Envoyé. Quelqu’un vous répondra par e-mail.', 'Veuillez saisir une adresse e-mail valide.'],
    es: ['Haga una pregunta', 'Su pregunta', 'Enviar', 'Cerrar el chat', 'Chatear con', 'Este asistente no está disponible en este sitio.', 'El asistente no pudo cargarse. Cierre y vuelva a abrir para intentarlo.', 'No se pudo contactar con el asistente. Compruebe su conexión e inténtelo de nuevo.', 'Algo salió mal. Inténtelo de nuevo.', 'El asistente ha alcanzado su límite por ahora.', 'Demasiados mensajes, espere', 'un momento', 'segundos', 'Ese mensaje es demasiado largo.', 'La respuesta se cortó. Inténtelo de nuevo.', 'No se pudo completar esta respuesta.', 'Fuente', 'página', 'Útil', 'No es útil', '¿Qué faltó? (opcional)', 'Gracias por su opinión.', 'Hablar con una persona', 'Su dirección de correo', '¿Algo que añadir? (opcional)', 'Acepto que me contacten en esta dirección sobre mi pregunta; solo se guarda para esto.', 'Enviar solicitud', 'Enviado. Alguien le responderá por correo.', 'Introduzca una dirección de correo válida.'],
    it: ['Fai una domanda', 'La tua domanda', 'Invia', 'Chiudi la chat', 'Chatta con', 'Questo assistente non è disponibile su questo sito.', "L'assistente non si è caricato. Chiudi e riapri per riprovare.", "Impossibile raggiungere l'assistente. Controlla la connessione e riprova.", 'Qualcosa è andato storto. Riprova.', "L'assistente ha raggiunto il suo limite per ora.", 'Troppi messaggi, attendi', 'un momento', 'secondi', 'Il messaggio è troppo lungo.', 'La risposta è stata interrotta. Riprova.', 'Impossibile completare questa risposta.', 'Fonte', 'pagina', 'Utile', 'Non utile', 'Cosa mancava? (facoltativo)', 'Grazie per il feedback.', 'Parla con una persona', 'Il tuo indirizzo email', 'Vuoi aggiungere qualcosa? (facoltativo)', 'Accetto di essere contattato a questo indirizzo per la mia domanda; è conservato solo per questo.', 'Invia richiesta', 'Inviato. Qualcuno ti risponderà via email.', 'Inserisci un indirizzo email valido.'],
    nl: ['Stel een vraag', 'Uw vraag', 'Verzenden', 'Chat sluiten', 'Chat met', 'Deze assistent is niet beschikbaar op deze site.', 'De assistent kon niet laden. Sluit en open opnieuw.', 'De assistent is niet bereikbaar. Controleer uw verbinding en probeer het opnieuw.', 'Er ging iets mis. Probeer het opnieuw.', 'De assistent heeft voorlopig zijn limiet bereikt.', 'Te veel berichten, wacht', 'even', 'seconden', 'Dat bericht is te lang.', 'Het antwoord werd afgebroken. Probeer het opnieuw.', 'Dit antwoord kon niet worden voltooid.', 'Bron', 'pagina', 'Nuttig', 'Niet nuttig', 'Wat ontbrak er? (optioneel)', 'Bedankt voor uw feedback.', 'Met een persoon praten', 'Uw e-mailadres', 'Iets toe te voegen? (optioneel)', 'Ik ga akkoord dat ik op dit adres over mijn vraag benaderd word; het wordt alleen hiervoor bewaard.', 'Verzoek versturen', 'Verstuurd. Iemand antwoordt u per e-mail.', 'Vul een geldig e-mailadres in.'],
    pt: ['Faça uma pergunta', 'A sua pergunta', 'Enviar', 'Fechar o chat', 'Conversar com', 'Este assistente não está disponível neste site.', 'O assistente não carregou. Feche e abra de novo para tentar.', 'Não foi possível contactar o assistente. Verifique a ligação e tente de novo.', 'Algo correu mal. Tente de novo.', 'O assistente atingiu o seu limite por agora.', 'Demasiadas mensagens, aguarde', 'um momento', 'segundos', 'Essa mensagem é demasiado longa.', 'A resposta foi interrompida. Tente de novo.', 'Não foi possível concluir esta resposta.', 'Fonte', 'página', 'Útil', 'Não é útil', 'O que faltou? (opcional)', 'Obrigado pelo seu feedback.', 'Falar com uma pessoa', 'O seu endereço de email', 'Algo a acrescentar? (opcional)', 'Aceito ser contactado neste endereço sobre a minha pergunta; é guardado só para isto.', 'Enviar pedido', 'Enviado. Alguém lhe responderá por email.', 'Introduza um endereço de email válido.'],
  };
  const KEYS = ['ask', 'question', 'send', 'close', 'chatWith', 'notHere', 'noLoad', 'unreachable', 'retry', 'quota', 'tooMany', 'moment', 'seconds', 'tooLong', 'cutOff', 'failed', 'source', 'page', 'up', 'down', 'why', 'thanks', 'talk', 'email', 'note', 'consent', 'request', 'sent', 'badEmail'];
  let T;
  const speak = (code) => {
    const wanted = code && code !== 'auto' ? [code] : [...(navigator.languages || []), navigator.language || ''];
    const lang = wanted.map((l) => String(l).slice(0, 2).toLowerCase()).find((l) => TEXTS[l]) || 'en';
    T = Object.fromEntries(KEYS.map((k, i) => [k, TEXTS[lang][i]]));
    frame.lang = lang;
    input.placeholder = T.ask;
    input.setAttribute('aria-label', label.textContent = T.question);
    sendButton.textContent = T.send;
    closer.setAttribute('aria-label', T.close);
    talk.textContent = T.talk;
  };
  speak('auto');

  // The widget's appearance, as its public configuration gives it (each field checked by Chat).
  const luminance = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4)).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
  let suggestions = [];
  function appear(a) {
    a = a || {};
    if (/^#[0-9a-f]{6}$/i.test(a.accent_color || '')) {
      frame.style.setProperty('--a', a.accent_color);
      // White or near-black text on the accent, whichever contrasts more (WCAG relative luminance).
      frame.style.setProperty('--on', 1.05 / (luminance(a.accent_color) + 0.05) >= (luminance(a.accent_color) + 0.05) / 0.05 ? '#fff' : '#111');
    }
    frame.setAttribute('data-theme', a.theme || 'light');
    frame.setAttribute('data-pos', a.position === 'left' ? 'left' : 'right');
    avatar.textContent = String(a.avatar_initials || '').slice(0, 3);
    suggestions = (Array.isArray(a.suggested_questions) ? a.suggested_questions : []).slice(0, 4).map(String);
    talk.hidden = a.handoff !== true;
    speak(a.language);
  }
  // Offered until the visitor's first message; a click asks the question.
  function suggest() {
    if (!suggestions.length || log.querySelector('[data-role=visitor]') || log.querySelector('.s')) return;
    const box = log.appendChild(node('div'));
    box.className = 's';
    for (const q of suggestions) {
      box.appendChild(node('button', q)).addEventListener('click', () => {
        if (!busy && !input.disabled) send(q);
      });
    }
  }

  let state, booted, loaded, busy, session;
  try { session = sessionStorage.getItem(KEY); } catch { /* storage blocked */ }
  const store = (token) => {
    session = token;
    try { token ? sessionStorage.setItem(KEY, token) : sessionStorage.removeItem(KEY); } catch { /* blocked */ }
  };
  const debug = (type, data) => {
    if (window.__contexoDebug) (window.__contexoEvents ||= []).push({ type, data, t: Date.now() });
  };
  const setState = (s) => {
    state = s;
    host.setAttribute('data-contexo-state', s);
    input.disabled = sendButton.disabled = s !== 'ready' && s !== 'error';
    if (s === 'not-allowed') note.textContent = T.notHere;
    debug('state', s);
  };
  const setName = (name) => {
    title.textContent = name;
    launcher.setAttribute('aria-label', `${T.chatWith} ${name}`);
  };
  class Fail extends Error {
    constructor(kind, message = '') { super(message); this.kind = kind; }
  }

  // One API call. A network or CORS failure is Fail('network'); a 403 is the gateway refusing this page.
  async function call(method, path, body, stream) {
    const headers = { Accept: stream ? 'text/event-stream' : 'application/json' };
    if (session && path) headers['X-Contexo-Session'] = session;
    if (body) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(api + path, { method, headers, body: body && JSON.stringify(body), credentials: 'omit', cache: 'no-store' });
    } catch { throw new Fail('network'); }
    if (res.status === 403) throw new Fail('not-allowed');
    return res;
  }
  async function check(res) {
    if (res.ok) return res;
    const slug = String((await res.json().catch(() => ({}))).type || '').split('/').pop();
    if (res.status === 429) {
      if (slug === 'quota-exceeded') throw new Fail('quota', T.quota);
      const wait = parseInt(res.headers.get('Retry-After'), 10);
      throw new Fail('rate', `${T.tooMany} ${wait > 0 ? `${wait} ${T.seconds}` : T.moment}.`);
    }
    if (res.status === 413) throw new Fail('input', T.tooLong);
    throw new Fail('server', T.retry);
  }
  const getJSON = async (method, path) => (await check(await call(method, path))).json();

  async function boot() {
    setState('loading');
    try {
      const w = await getJSON('GET', '');
      appear(w.appearance);
      setName((w.appearance && w.appearance.title) || w.name || 'Assistant');
      if (w.greeting) message('greeting', w.greeting);
      setState('ready');
    } catch (f) {
      // A refused origin gets no CORS headers, so this first call fails like a network error.
      if (f.kind === 'network' || f.kind === 'not-allowed') setState('not-allowed');
      else {
        note.textContent = T.noLoad;
        setState('error');
        input.disabled = sendButton.disabled = true;
        booted = null;
      }
      throw f;
    }
  }
  async function newSession() {
    store(null);
    store((await getJSON('POST', '/sessions')).token);
  }
  async function loadConversation() {
    if (session) {
      const res = await call('GET', '/messages');
      if (res.status !== 401) {
        for (const m of (await (await check(res)).json()).messages || []) {
          const el = message(m.role === 'visitor' ? 'visitor' : 'assistant', m.text, m.status === 'failed' && 'failed');
          cite(el, m.citations);
          if (m.role === 'assistant' && m.status === 'complete') rate(el, m.id, m.feedback);
        }
        return;
      }
    }
    await newSession();
  }

  const node = (tag, text) => {
    const e = document.createElement(tag);
    if (text != null) e.textContent = text;
    return e;
  };
  // A safe Markdown subset, node by node: a link is made only for http(s) addresses.
  function markdown(target, text) {
    target.textContent = '';
    let p = null, list = null, code = null;
    for (const line of String(text).split('\n')) {
      if (code) {
        if (/^\s*```/.test(line)) code = null; else code.textContent += line + '\n';
        continue;
      }
      if (/^\s*```/.test(line)) {
        p = list = null;
        code = node('code');
        target.appendChild(node('pre')).append(code);
        continue;
      }
      const item = /^\s*(?:[-*+]|(\d{1,3})\.)\s+(.*)$/.exec(line);
      if (item) {
        const kind = item[1] ? 'OL' : 'UL';
        if (!list || list.tagName !== kind) { p = null; list = target.appendChild(node(kind)); }
        inline(list.appendChild(node('li')), item[2]);
        continue;
      }
      list = null;
      if (!line.trim()) { p = null; continue; }
      if (p) p.append(node('br')); else p = target.appendChild(node('p'));
      inline(p, line);
    }
  }
  function inline(parent, text) {
    const re = /`([^`]+)`|\*\*([^*]+)\*\*|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<>()[\]]*[^\s<>()[\].,;:!?'"])/g;
    let last = 0, m;
    while ((m = re.exec(text))) {
      parent.append(text.slice(last, m.index));
      last = re.lastIndex;
      if (m[1] != null) { parent.append(node('code', m[1])); continue; }
      if (m[2] != null) { parent.append(node('strong', m[2])); continue; }
      const href = m[4] || m[5], label = m[3] || m[5];
      if (!/^https?:\/\//i.test(href)) { parent.append(label); continue; }
      parent.append(Object.assign(node('a', label), { href, target: '_blank', rel: 'noopener noreferrer' }));
    }
    parent.append(text.slice(last));
  }
  if (window.__contexoDebug === true) {
    window.__contexoMarkdown = (text) => { const d = node('div'); markdown(d, text); return d.innerHTML; };
  }

  function message(role, text, status) {
    const el = document.createElement('div');
    el.className = 'm';
    el.setAttribute('data-role', role);
    if (status) el.setAttribute('data-status', status);
    el.innerHTML = '<div class="t"></div><ul class="c"></ul>';
    if (role === 'assistant' && text && status !== 'failed') markdown(el.firstChild, text);
    else el.firstChild.textContent = text || (status === 'failed' ? T.failed : '');
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }
  function cite(el, citations) {
    for (const c of citations || []) {
      const url = String(c.source_url || '');
      const link = /^https?:\/\//i.test(url);
      const a = document.createElement(link ? 'a' : 'span');
      if (link) Object.assign(a, { href: url, target: '_blank', rel: 'noopener noreferrer' });
      a.textContent = `[${c.n}] ${c.title || T.source}${c.heading ? ` \u2014 ${c.heading}` : ''}${c.page != null ? ` (${T.page} ${c.page})` : ''}`;
      const li = document.createElement('li');
      li.setAttribute('data-citation', c.n);
      li.appendChild(a);
      el.querySelector('.c').appendChild(li);
    }
    log.scrollTop = log.scrollHeight;
  }

  const SVG = 'http://www.w3.org/2000/svg';
  const thumb = (down) => {
    const svg = document.createElementNS(SVG, 'svg'), path = document.createElementNS(SVG, 'path');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    path.setAttribute('d', 'M2 10h4v11H2zM8 10l4-8c1.5 0 2.5 1 2.5 2.5L14 9h6a2 2 0 0 1 2 2.3l-1.4 8A2 2 0 0 1 18.6 21H8z');
    if (down) path.setAttribute('transform', 'rotate(180 12 12)');
    svg.append(path);
    return svg;
  };
  // 👍/👎 under a finished answer: one vote per answer, changeable; after a 👎 an optional comment.
  function rate(el, id, given) {
    if (!id || el.querySelector('.k')) return;
    const bar = el.appendChild(node('div'));
    bar.className = 'k';
    const buttons = ['up', 'down'].map((vote) => {
      const b = bar.appendChild(node('button'));
      b.append(thumb(vote === 'down'));
      Object.assign(b, { type: 'button', title: T[vote] });
      b.setAttribute('aria-label', T[vote]);
      b.setAttribute('aria-pressed', String(given?.vote === vote));
      b.addEventListener('click', () => cast(vote));
      return b;
    });
    let box;
    async function cast(vote, comment = '') {
      try {
        const saved = await (await check(await call('POST', `/messages/${encodeURIComponent(id)}/feedback`, { vote, comment }))).json();
        buttons.forEach((b, i) => b.setAttribute('aria-pressed', String(saved.vote === ['up', 'down'][i])));
        bar.querySelector('span')?.remove();
        if (saved.vote === 'down' && !comment && !box) {
          box = bar.appendChild(node('input'));
          Object.assign(box, { type: 'text', maxLength: 500, placeholder: T.why });
          box.setAttribute('aria-label', T.why);
          box.addEventListener('keydown', (e) => {
            if (e.key === 'Enter' && box.value.trim()) { e.preventDefault(); cast('down', box.value.trim()); }
          });
          box.focus();
        } else if (comment || saved.vote === 'up') {
          box?.remove(); box = null;
          bar.appendChild(node('span', T.thanks));
        }
      } catch (e) { note.textContent = (e instanceof Fail && e.message) || T.retry; }
    }
  }

  // Talk to a person: the visitor leaves an address, with their consent, for the customer to reply.
  function handoff() {
    if (log.querySelector('.ho')) return log.querySelector('.ho input').focus();
    const box = log.appendChild(node('form'));
    box.className = 'ho';
    box.noValidate = true;
    const field = (tag, labelText, attributes) => {
      const control = Object.assign(node(tag), attributes, { id: `h${Math.random().toString(36).slice(2)}` });
      box.append(Object.assign(node('label', labelText), { htmlFor: control.id }), control);
      return control;
    };
    const email = field('input', T.email, { type: 'email', autocomplete: 'email', maxLength: 254, required: true });
    const extra = field('textarea', T.note, { rows: 2, maxLength: 1000 });
    const agree = Object.assign(node('input'), { type: 'checkbox', id: `h${Math.random().toString(36).slice(2)}` });
    const consent = node('label');
    consent.append(agree, ' ', T.consent);
    const problem = node('p');
    problem.setAttribute('role', 'alert');
    box.append(consent, problem, Object.assign(node('button', T.request), { type: 'submit' }));
    box.addEventListener('submit', async (e) => {
      e.preventDefault();
      problem.textContent = '';
      if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.value.trim())) { problem.textContent = T.badEmail; return email.focus(); }
      if (!agree.checked) { problem.textContent = T.consent; return agree.focus(); }
      try {
        if (!session) await newSession();
        await check(await call('POST', '/handoff', {
          email: email.value.trim(), note: extra.value.trim(), consent: true, consent_text: T.consent, language: frame.lang,
        }));
        box.replaceWith(Object.assign(node('p', T.sent), { className: 'm', role: 'status' }));
      } catch (f) { problem.textContent = (f instanceof Fail && f.message) || T.retry; }
    });
    log.scrollTop = log.scrollHeight;
    email.focus();
  }
  talk.addEventListener('click', handoff);

  // Server-sent events as they arrive: a blank line ends an event; CR, LF and CRLF all end lines.
  async function readEvents(res, onEvent) {
    const reader = res.body.getReader(), decoder = new TextDecoder();
    let buf = '', type = '', data = [];
    const line = (l) => {
      if (l === '') {
        if (data.length) onEvent(type || 'message', data.join('\n'));
        type = ''; data = [];
      } else if (l[0] !== ':') {
        const i = l.indexOf(':'), field = i < 0 ? l : l.slice(0, i);
        let value = i < 0 ? '' : l.slice(i + 1);
        if (value[0] === ' ') value = value.slice(1);
        if (field === 'event') type = value; else if (field === 'data') data.push(value);
      }
    };
    for (;;) {
      const { done, value } = await reader.read();
      buf += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const held = !done && buf.endsWith('\r') ? '\r' : '';   // maybe the first half of a CRLF
      const lines = (held ? buf.slice(0, -1) : buf).split(/\r\n|\r|\n/);
      buf = lines.pop() + held;
      lines.forEach(line);
      if (done) { if (buf) line(buf); return line(''); }
    }
  }

  async function send(text) {
    busy = true;
    note.textContent = '';
    log.querySelector('.s')?.remove();
    message('visitor', text);
    const el = message('assistant', '', 'streaming'), t = el.firstChild;
    let ended = false;
    const finish = (status, msg) => {
      ended = true;
      el.setAttribute('data-status', status);
      if (msg != null && status === 'complete') markdown(t, msg);
      else if (msg != null) t.textContent = msg;
    };
    setState('streaming');
    try {
      const post = () => call('POST', '/messages', { message: text }, true);
      if (!session) await newSession();
      let res = await post();
      if (res.status === 401) { await newSession(); res = await post(); }  // expired or foreign token: once
      await check(res);
      await readEvents(res, (event, raw) => {
        let d = {};
        try { d = JSON.parse(raw); } catch { /* keep {} */ }
        debug(event, d.text && d.text.length);
        if (ended) return;
        if (event === 'token' && d.text) {
          t.append(d.text);
          log.scrollTop = log.scrollHeight;
        } else if (event === 'done') {
          finish('complete', d.text || t.textContent);
          cite(el, d.citations);
          rate(el, d.message_id);
        } else if (event === 'error') finish('failed', d.message || T.retry);
      });
      if (!ended) finish('failed', T.cutOff);
    } catch (e) {
      const f = e instanceof Fail ? e : new Fail('network');
      if (f.kind === 'not-allowed') { el.remove(); setState('not-allowed'); }
      else {
        finish('failed', f.message || T.unreachable);
        if (f.kind !== 'quota' && f.kind !== 'input' && !input.value) input.value = text;  // easy to retry
      }
    }
    busy = false;
    if (state !== 'streaming') return;
    setState(el.getAttribute('data-status') === 'failed' ? 'error' : 'ready');
    if (!panel.hidden) input.focus();
  }

  const focusInside = () => { if (!panel.hidden) (input.disabled ? closer : input).focus(); };
  function open() {
    panel.hidden = false;
    launcher.setAttribute('aria-expanded', 'true');
    booted ||= boot();
    loaded ||= booted.then(() => { setState('loading'); return loadConversation(); }).then(() => { suggest(); setState('ready'); }, (f) => {
      loaded = null;
      if (state === 'not-allowed' || state === 'error') return;
      if (f.kind === 'not-allowed') return setState('not-allowed');
      note.textContent = (f instanceof Fail && f.kind !== 'network' && f.message) || T.unreachable;
      setState('error');
    }).then(focusInside);
    focusInside();
  }
  function close() {
    panel.hidden = true;
    launcher.setAttribute('aria-expanded', 'false');
    launcher.focus();
  }

  launcher.addEventListener('click', () => (panel.hidden ? open() : close()));
  closer.addEventListener('click', close);
  panel.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.preventDefault(); close(); } });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || busy || input.disabled) return;
    input.value = '';
    send(text);
  });

  setName('Assistant');
  const mount = () => {
    document.body.appendChild(host);
    booted = boot();
    booted.catch(() => {});
  };
  document.body ? mount() : document.addEventListener('DOMContentLoaded', mount);
})();
