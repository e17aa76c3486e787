// A thread's conversation: its messages, a box to write to the assistant whose reply streams
// in (server-sent events), and what the reply's frontend actions ask of the page.

import { ApiError, busyWhile, errorFrom, get, patch, post, request } from './api.js';
import { busy, h, showNotice, when } from './ui.js';

/** A 404 for the route itself (not for the thread): the server has no message endpoints. */
const isMissingRoute = (err) => err instanceof ApiError && err.status === 404 && err.message === 'Not Found';

/** Reads a text/event-stream body, calling `onEvent(name, data)` for each event. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    buffer += decoder.decode(value || new Uint8Array(), { stream: !done });
    const blocks = buffer.split(/\r?\n\r?\n/);
    buffer = done ? '' : blocks.pop();
    for (const block of blocks) {
      let name = 'message';
      const data = [];
      for (const line of block.split(/\r?\n/)) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length || name !== 'message') onEvent(name, data.length ? JSON.parse(data.join('\n')) : null);
    }
    if (done) return;
  }
}

/**
 * The conversation of thread `threadId`. The returned panel has `showCompleted(completed)`: a
 * completed thread takes no message (the API answers 409), so its composer is closed.
 */
export function conversationPanel(threadId, completed, onThreadChanged) {
  const base = `/api/v1/chat/${encodeURIComponent(threadId)}/messages`;
  const threadPath = `/api/v1/chat/threads/${encodeURIComponent(threadId)}`;
  const messages = h('ol', { class: 'messages', 'aria-live': 'polite' });
  const submit = h('button', { type: 'button', disabled: true, title: 'Enabled when the assistant says the answers are complete' }, 'Submit');
  const steps = h('ol', { class: 'steps', 'aria-label': 'Campaign draft step' },
    [1, 2, 3, 4].map((n) => h('li', { 'data-step': n }, `Step ${n}`)));
  const draft = h('pre', { class: 'json', hidden: true });
  const draftBox = h('div', { class: 'draft', hidden: true }, h('h4', {}, 'Campaign draft'), steps, draft);
  const text = h('textarea', { name: 'content', rows: 3, placeholder: 'Write to the assistant…', required: true });
  const send = h('button', { type: 'submit' }, 'Send');
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const compose = h('form', { class: 'compose', 'aria-label': 'Write to the assistant' }, error, text, h('div', { class: 'actions' }, send));
  const closed = h('p', { class: 'notice notice-info', hidden: true },
    'This thread is completed: reopen it to write to the assistant.');
  const status = h('p', { class: 'muted loading' }, 'Loading the conversation…');
  const frontendBar = h('div', { class: 'actions frontend' }, submit,
    h('small', { class: 'muted' }, 'The client\'s submit button: the assistant enables it when the answers are complete.'));
  const panel = h('section', { class: 'card conversation', 'aria-label': 'Conversation' },
    h('h2', {}, 'Conversation'), status, messages, draftBox,
    frontendBar, closed, compose);

  panel.showCompleted = (isCompleted) => {
    closed.hidden = !isCompleted;
    text.disabled = isCompleted;
    send.disabled = isCompleted;
  };
  panel.showCompleted(completed);

  function bubble(message) {
    const actions = message.frontend_actions || [];
    return h('li', { class: `message message-${message.role}` },
      h('div', { class: 'message-meta' }, message.role === 'user' ? 'You' : 'Assistant', ' · ', when(message.date_added)),
      h('div', { class: 'message-text' }, message.content),
      actions.length ? h('div', { class: 'chips' }, actions.map((action) => h('span', { class: 'chip' }, action))) : null);
  }

  async function showDraft() {
    draftBox.hidden = false;
    try {
      const current = await get(`${threadPath}/campaign-draft`);
      draft.textContent = JSON.stringify(current, null, 2);
    } catch (err) {
      draft.textContent = `The campaign draft cannot be shown: ${err.message}`;
    }
    draft.hidden = false;
  }

  function apply(actions) {
    for (const action of actions || []) {
      if (action === 'enable_submit_button') submit.disabled = false;
      else if (action === 'disable_submit_button') submit.disabled = true;
      else if (action === 'update_campaign_draft') showDraft();
      else {
        const step = action.match(/^set_campaign_draft_step_(\d)$/);
        if (step) {
          draftBox.hidden = false;
          for (const item of steps.children) item.classList.toggle('current', item.dataset.step === step[1]);
        }
      }
    }
  }

  function unavailable() {
    status.textContent = 'This server has no conversation endpoints (GET /api/v1/chat/{thread_id}/messages answered 404), so messages cannot be shown or sent here.';
    status.className = 'notice notice-info';
    compose.hidden = true;
    frontendBar.hidden = true;
  }

  async function load() {
    try {
      const list = await get(base);
      messages.replaceChildren(...list.map(bubble));
      status.textContent = list.length ? '' : 'No message yet: write the first one.';
      status.className = 'muted';
      list.forEach((message) => apply(message.frontend_actions));
    } catch (err) {
      if (isMissingRoute(err)) return unavailable();
      status.textContent = err.message;
      status.className = 'error-text';
    }
  }

  /** Sends `content` and shows the reply as it streams; without a stream endpoint, waits for it. */
  async function sendMessage(content) {
    const body = { role: 'user', content };
    let response;
    try {
      response = await request('POST', `${base}/stream`, { json: body, raw: true });
    } catch (err) {
      if (!isMissingRoute(err)) throw err;
      const created = await post(base, body);
      created.forEach((message) => { messages.append(bubble(message)); apply(message.frontend_actions); });
      return;
    }
    const live = h('li', { class: 'message message-assistant streaming' },
      h('div', { class: 'message-meta' }, 'Assistant · writing…'), h('div', { class: 'message-text' }));
    let failure = null;
    const added = [];
    await busyWhile(() => readEvents(response, (name, data) => {
      if (name === 'user_message') {
        status.textContent = '';
        const mine = bubble(data);
        added.push(mine);
        messages.append(mine, live);
      } else if (name === 'delta') {
        if (!live.isConnected) messages.append(live);
        live.lastChild.textContent += data?.content ?? '';
        live.scrollIntoView({ block: 'nearest' });
      } else if (name === 'assistant_message') {
        const reply = bubble(data);
        added.push(reply);
        if (live.isConnected) live.replaceWith(reply);
        else messages.append(reply);
        apply(data.frontend_actions);
      } else if (name === 'error') {
        failure = errorFrom(500, data);
      }
    }));
    live.remove();
    if (failure) {
      // Nothing was stored: take back what this attempt showed.
      added.forEach((item) => item.remove());
      throw failure;
    }
  }

  compose.addEventListener('submit', async (event) => {
    event.preventDefault();
    const content = text.value;
    await busy(send, compose, error, async () => {
      text.value = '';
      try {
        await sendMessage(content);
        status.textContent = '';
      } catch (err) {
        text.value = content;
        if (isMissingRoute(err)) unavailable();
        throw err;
      }
      onThreadChanged(await get(threadPath));
    });
  });

  submit.addEventListener('click', async () => {
    try {
      onThreadChanged(await patch(threadPath, { is_completed: true }));
      showNotice('Submitted: the thread is completed.', 'ok');
    } catch (err) {
      showNotice(err.message);
    }
  });

  load();
  return panel;
}
