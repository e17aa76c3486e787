// Chat threads: a company's list (filters, paging by the Link header, creation) and one
// thread's page (every field, rename, complete, delete, conversation).

import { nextLink, patch, post, remove, request, get } from './api.js';
import { actionButton, ask, field, flash, form, h, orNull, showNotice, table, when, yesNo } from './ui.js';
import { conversationPanel } from './chat.js';
import { draftLink } from './drafts.js';

const ASSISTANT_TYPES = [
  ['onboarding', 'Onboarding'],
  ['general', 'General'],
  ['market_analysis', 'Market analysis'],
  ['campaign_creation', 'Campaign creation'],
];
const assistantLabel = (type) => ASSISTANT_TYPES.find(([value]) => value === type)?.[1] ?? type;

const customerLabel = (c) => (c ? `${c.descriptive_name || 'Customer'} (${c.id})` : '');
const locationLabel = (l) => (l ? `${l.title || 'Location'} (${l.id})` : '');

function scopeOptions(context, anyLabel) {
  return {
    customers: [['', anyLabel], ...context.customers.map((c) => [String(c.id), customerLabel(c)])],
    locations: [['', anyLabel], ...context.locations.map((l) => [l.id, locationLabel(l)])],
  };
}

export function threadsSection(context) {
  const section = h('section', {});
  const filters = h('form', { class: 'filters', 'aria-label': 'Filter threads' });
  const list = h('div', {});
  const more = h('div', { class: 'actions' });
  const creator = h('div', {});
  let rows = [];

  function buildFilters() {
    const current = Object.fromEntries(new FormData(filters));
    const { customers, locations } = scopeOptions(context, 'Any');
    filters.replaceChildren(
      field('Assistant', 'assistant_type', { type: 'select', value: current.assistant_type, options: [['', 'Any'], ...ASSISTANT_TYPES] }),
      field('Google Ads customer', 'customer_id', { type: 'select', value: current.customer_id, options: customers }),
      field('Business location', 'location_id', { type: 'select', value: current.location_id, options: locations }),
      field('Completed', 'is_completed', { type: 'select', value: current.is_completed, options: [['', 'Any'], ['false', 'Open'], ['true', 'Completed']] }),
    );
  }

  function showRows() {
    list.replaceChildren(table(['Thread', 'Assistant', 'Customer', 'Location', 'Completed', 'Updated'], rows.map((t) => [
      [h('a', { href: `#/threads/${encodeURIComponent(t.thread_id)}?company=${context.id}` }, t.name || h('em', {}, 'Untitled')),
        h('small', { class: 'mono block muted' }, t.thread_id)],
      assistantLabel(t.assistant.assistant_type),
      customerLabel(t.google_ads_customer),
      locationLabel(t.google_business_location),
      yesNo(t.is_completed),
      when(t.date_updated),
    ]), 'No thread matches.'));
  }

  /** Loads the first page for the filters, or the page at `url` (from a Link header), appended. */
  async function load(url) {
    const first = !url;
    if (first) {
      // Pages of 20, with "Load more": without `limit` the server answers every thread at once.
      const query = new URLSearchParams({ company_id: context.id, limit: 20 });
      for (const [name, value] of new FormData(filters)) if (value) query.set(name, value);
      url = `/api/v1/chat/threads?${query}`;
      list.replaceChildren(h('p', { class: 'muted loading' }, 'Loading…'));
    }
    more.replaceChildren();
    try {
      const answer = await request('GET', url);
      rows = first ? answer.body : [...rows, ...answer.body];
      showRows();
      const next = nextLink(answer.headers);
      if (next) more.append(actionButton('Load more', () => load(next), { class: 'secondary' }));
    } catch (err) {
      list.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, err.message));
    }
  }

  function buildCreator() {
    const { customers, locations } = scopeOptions(context, 'None');
    creator.replaceChildren(form({ class: 'card', 'aria-label': 'Create a thread' }, [
      h('h3', {}, 'Create a thread'),
      field('Assistant', 'assistant_type', { type: 'select', value: 'onboarding', options: ASSISTANT_TYPES }),
      field('Name', 'name'),
      field('Description', 'description', { type: 'textarea', rows: 2 }),
      field('Google Ads customer', 'customer_id', { type: 'select', options: customers }),
      field('Login customer id', 'login_customer_id', { inputmode: 'numeric', hint: 'The manager account to sign in to Google Ads through (optional).' }),
      field('Business location', 'location_id', { type: 'select', options: locations }),
      field('Extra data (JSON object)', 'extra_data', { type: 'textarea', rows: 3, value: '{}', hint: 'Passed to the assistant\'s tools.' }),
    ], async (v, element) => {
      let extra;
      try {
        extra = v.extra_data.trim() ? JSON.parse(v.extra_data) : {};
      } catch (err) {
        throw Object.assign(new Error(`Extra data is not valid JSON: ${err.message}`), { fields: { extra_data: 'Not valid JSON' } });
      }
      const query = new URLSearchParams({ company_id: context.id });
      if (v.customer_id) query.set('customer_id', v.customer_id);
      if (v.location_id) query.set('location_id', v.location_id);
      if (v.login_customer_id.trim()) query.set('login_customer_id', v.login_customer_id.trim());
      const thread = await post(`/api/v1/chat/threads?${query}`, {
        assistant_type: v.assistant_type,
        name: orNull(v.name),
        description: orNull(v.description),
        extra_data: extra,
      });
      element.reset();
      showNotice(`Thread “${thread.name || thread.thread_id}” was created.`, 'ok');
      await load();
    }, 'Create thread'));
  }

  filters.addEventListener('change', () => load());
  context.onConnections(() => {
    buildFilters();
    buildCreator();
  });
  buildFilters();
  buildCreator();
  section.append(h('h2', {}, 'Chat threads'), h('div', { class: 'columns' }, h('div', {}, filters, list, more), creator));
  load();
  return section;
}

function details(pairs) {
  return h('dl', { class: 'details' }, pairs.map(([term, value]) => [
    h('dt', {}, term),
    h('dd', {}, value === null || value === undefined || value === '' ? h('span', { class: 'muted' }, '—') : value),
  ]));
}

export async function threadView(view, threadId, companyId) {
  const back = companyId ? `#/companies/${companyId}` : '#/companies';
  const path = `/api/v1/chat/threads/${encodeURIComponent(threadId)}`;
  view.replaceChildren(h('p', { class: 'crumbs' }, h('a', { href: back }, '← Company')), h('p', { class: 'muted loading' }, 'Loading…'));
  let thread;
  try {
    thread = await get(path);
  } catch (err) {
    view.lastChild.replaceWith(h('p', { class: 'error-text', role: 'alert' }, err.message));
    return;
  }
  const body = h('div', {});
  let draftId = null; // the thread's campaign draft, once known
  let conversation = null; // the conversation panel, once made
  const rerender = (changed) => {
    thread = changed;
    body.replaceChildren(...threadParts(thread));
    conversation?.showCompleted(thread.is_completed);
  };
  function threadParts(t) {
    document.title = `${t.name || t.thread_id} · adthread`;
    const customer = t.google_ads_customer;
    const place = t.google_business_location;
    const address = place?.storefront_address;
    return [
      h('h1', {}, t.name || h('em', {}, 'Untitled thread')),
      h('div', { class: 'toolbar' },
        draftId === null ? null : h('a', { class: 'button-link', href: draftLink(draftId, companyId) }, 'Campaign draft'),
        actionButton(t.is_completed ? 'Reopen' : 'Mark completed', async () => {
          rerender(await patch(path, { is_completed: !t.is_completed }));
          showNotice(t.is_completed ? 'The thread is open again.' : 'The thread is completed.', 'ok');
        }),
        actionButton('Delete thread', async () => {
          const sure = await ask({
            title: 'Delete this thread?',
            message: 'The thread and its whole conversation are deleted for good.',
            confirmLabel: 'Delete',
            danger: true,
          });
          if (!sure) return;
          await remove(path);
          flash(`The thread “${t.name || t.thread_id}” was deleted.`);
          location.hash = back;
        }, { class: 'danger' })),
      h('div', { class: 'columns' },
        h('section', { 'aria-label': 'Thread fields' },
          details([
            ['Thread id', h('span', { class: 'mono' }, t.thread_id)],
            ['Name', t.name],
            ['Description', t.description],
            ['Assistant', `${assistantLabel(t.assistant.assistant_type)} (${t.assistant.id})`],
            ['Completed', yesNo(t.is_completed)],
            ['Added', when(t.date_added)],
            ['Updated', when(t.date_updated)],
            ['Google Ads customer', customer && [customerLabel(customer),
              h('small', { class: 'block muted' }, [customer.currency_code, customer.time_zone, customer.status].filter(Boolean).join(' · '))]],
            ['Login customer id', t.google_ads_login_customer_id === null ? null : String(t.google_ads_login_customer_id)],
            ['Business location', place && [locationLabel(place),
              h('small', { class: 'block muted' }, [place.store_code, ...(address?.address_lines || []), address?.postal_code, address?.locality, address?.region_code].filter(Boolean).join(' · '))]],
          ]),
          h('h3', {}, 'Extra data'),
          h('pre', { class: 'json' }, JSON.stringify(t.extra_data, null, 2))),
        form({ class: 'card', 'aria-label': 'Rename the thread' }, [
          h('h3', {}, 'Rename'),
          field('Name', 'name', { value: t.name }),
          field('Description', 'description', { type: 'textarea', rows: 2, value: t.description }),
        ], async (v) => {
          rerender(await patch(path, { name: orNull(v.name), description: orNull(v.description) }));
          showNotice('The thread was saved.', 'ok');
        }, 'Save')),
    ];
  }
  rerender(thread);
  // A typed draft (it has a numeric id) is one click away; 404: the thread has none.
  get(`${path}/campaign-draft`).then((draft) => {
    if (Number.isInteger(draft?.id)) {
      draftId = draft.id;
      rerender(thread);
    }
  }, () => {});
  conversation = conversationPanel(threadId, thread.is_completed, (changed) => rerender(changed));
  view.lastChild.replaceWith(body, conversation);
}
