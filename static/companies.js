// Companies: the list, one company's page (tabs for its threads, Google connections and
// members), and the editors for customers and locations.

import { get, patch, post, remove, segment } from './api.js';
import { actionButton, ask, clearNotice, field, fill, form, h, orNull, showNotice, table, when, yesNo } from './ui.js';
import { threadsSection } from './threads.js';
import { draftsSection } from './drafts.js';

export async function companiesView(view) {
  document.title = 'Companies · adthread';
  const list = h('section', { 'aria-label': 'Companies' });
  const create = form({ class: 'card', 'aria-label': 'Create a company' }, [
    h('h2', {}, 'Create a company'),
    field('Name', 'name', { required: true, maxlength: 200 }),
  ], async ({ name }) => {
    const company = await post('/api/v1/companies', { name });
    location.hash = `#/companies/${company.id}`;
  }, 'Create company');
  view.replaceChildren(h('h1', {}, 'Companies'), h('div', { class: 'columns' }, list, create));
  await fill(list, async () => {
    const companies = await get('/api/v1/companies');
    return table(['Company', 'Id', 'Added'], companies.map((company) => [
      h('a', { href: `#/companies/${company.id}` }, company.name),
      String(company.id),
      when(company.date_added),
    ]), 'No company yet: create the first one.');
  });
}

/** What one company's sections share: its id and its customers and locations. */
class CompanyContext {
  constructor(id) {
    this.id = id;
    this.base = `/api/v1/companies/${id}`;
    this.customers = [];
    this.locations = [];
    this.listeners = [];
  }

  async loadConnections() {
    [this.customers, this.locations] = await Promise.all([
      get(`${this.base}/google-ads-customers`),
      get(`${this.base}/google-business-locations`),
    ]);
    this.listeners.forEach((listener) => listener());
  }

  /** Runs `listener` whenever the customers or locations change. */
  onConnections(listener) {
    this.listeners.push(listener);
  }
}

const TABS = [
  ['threads', 'Chat threads'],
  ['drafts', 'Campaign drafts'],
  ['customers', 'Google Ads customers'],
  ['locations', 'Business locations'],
  ['members', 'Members'],
];

export async function companyView(view, id) {
  const context = new CompanyContext(id);
  const heading = h('h1', {}, `Company ${id}`);
  view.replaceChildren(h('p', { class: 'crumbs' }, h('a', { href: '#/companies' }, '← Companies')), heading);
  let company;
  try {
    [company] = await Promise.all([get(context.base), context.loadConnections()]);
  } catch (err) {
    view.append(h('p', { class: 'error-text', role: 'alert' }, err.message));
    return;
  }
  document.title = `${company.name} · adthread`;
  heading.textContent = company.name;
  const panels = {
    threads: threadsSection(context),
    drafts: draftsSection(context),
    customers: connectionSection(context, CUSTOMERS),
    locations: connectionSection(context, LOCATIONS),
    members: membersSection(context),
  };
  const tabs = h('div', { class: 'tabs', role: 'tablist' }, TABS.map(([key, label]) =>
    h('button', {
      type: 'button', role: 'tab', id: `tab-${key}`, 'aria-controls': `panel-${key}`,
      onclick: () => {
        clearNotice();
        select(key);
      },
    }, label)));
  function select(key) {
    for (const [name] of TABS) {
      const chosen = name === key;
      document.getElementById(`tab-${name}`).setAttribute('aria-selected', String(chosen));
      panels[name].hidden = !chosen;
    }
    sessionStorage.setItem('adthread.tab', key);
  }
  for (const [key, panel] of Object.entries(panels)) {
    panel.id = `panel-${key}`;
    panel.setAttribute('role', 'tabpanel');
    panel.setAttribute('aria-labelledby', `tab-${key}`);
  }
  view.append(h('p', { class: 'muted' }, `Company id ${company.id} · added ${when(company.date_added)}`), tabs, ...Object.values(panels));
  select(panels[sessionStorage.getItem('adthread.tab')] ? sessionStorage.getItem('adthread.tab') : 'threads');
}

function membersSection(context) {
  const section = h('section', {});
  const list = h('div', {});
  const reload = () => fill(list, async () => {
    const members = await get(`${context.base}/members`);
    return table(['Email', 'Role', 'Added', ''], members.map((member) => [
      member.email,
      member.role,
      when(member.date_added),
      actionButton('Remove', async () => {
        const sure = await ask({
          title: 'Remove this member?',
          message: `${member.email} will no longer see this company.`,
          confirmLabel: 'Remove',
          danger: true,
        });
        if (!sure) return;
        await remove(`${context.base}/members/${member.user_id}`);
        showNotice(`${member.email} was removed from the company.`, 'ok');
        await reload();
      }, { class: 'secondary small' }),
    ]), 'No members.');
  });
  const add = form({ class: 'card', 'aria-label': 'Add a member' }, [
    h('h3', {}, 'Add a member'),
    field('Email', 'email', { type: 'email', required: true, hint: 'Someone who already has an account.' }),
    field('Role', 'role', { type: 'select', value: 'member', options: [['member', 'Member'], ['owner', 'Owner']] }),
  ], async ({ email, role }, element) => {
    await post(`${context.base}/members`, { email, role });
    element.reset();
    await reload();
  }, 'Add member');
  section.append(h('h2', {}, 'Members'), h('div', { class: 'columns' }, list, add));
  reload();
  return section;
}

/** Digits become a number; anything else is sent as typed, so that the API names the problem. */
const idNumber = (text) => (/^\s*\d+\s*$/.test(text) ? Number(text) : text);

const CUSTOMERS = {
  title: 'Google Ads customers',
  one: 'Google Ads customer',
  path: 'google-ads-customers',
  list: (context) => context.customers,
  headings: ['Id', 'Name', 'Currency', 'Time zone', 'Status', 'Manager', 'Active', 'Deleted'],
  cells: (c) => [String(c.id), c.descriptive_name ?? '', c.currency_code ?? '', c.time_zone ?? '',
    c.status ?? '', yesNo(c.manager), yesNo(c.is_active), yesNo(c.is_deleted)],
  fields: (c = {}) => [
    field('Customer id', 'id', { value: c.id ?? '', required: true, inputmode: 'numeric', readonly: c.id !== undefined, hint: 'Digits only, without dashes.' }),
    field('Descriptive name', 'descriptive_name', { value: c.descriptive_name }),
    field('Currency code', 'currency_code', { value: c.currency_code, hint: 'Such as EUR' }),
    field('Time zone', 'time_zone', { value: c.time_zone, hint: 'Such as Europe/Paris' }),
    field('Status', 'status', { value: c.status, hint: 'Such as ENABLED' }),
    field('Manager account', 'manager', { type: 'checkbox', value: c.manager ?? false }),
    field('Active', 'is_active', { type: 'checkbox', value: c.is_active ?? true }),
    field('Deleted', 'is_deleted', { type: 'checkbox', value: c.is_deleted ?? false }),
  ],
  body: (v) => ({
    descriptive_name: orNull(v.descriptive_name),
    currency_code: orNull(v.currency_code),
    time_zone: orNull(v.time_zone),
    status: orNull(v.status),
    manager: v.manager,
    is_active: v.is_active,
    is_deleted: v.is_deleted,
  }),
  newId: (v) => idNumber(v.id),
};

// Locations saved before the server checked maps_uri may hold any text: never make it a link.
const isWebLink = (text) => typeof text === 'string' && /^https?:\/\//i.test(text);

const ADDRESS_FIELDS = [
  ['Region code', 'region_code', 'Such as FR'],
  ['Language code', 'language_code', 'Such as fr'],
  ['Postal code', 'postal_code'],
  ['Administrative area', 'administrative_area'],
  ['Locality', 'locality', 'The city or town'],
  ['Sublocality', 'sublocality'],
];

const LOCATIONS = {
  title: 'Business locations',
  one: 'Business location',
  path: 'google-business-locations',
  list: (context) => context.locations,
  headings: ['Id', 'Title', 'Store code', 'Address', 'Maps'],
  cells: (l) => [l.id, l.title ?? '', l.store_code ?? '', addressText(l.storefront_address),
    isWebLink(l.maps_uri) ? h('a', { href: l.maps_uri, target: '_blank', rel: 'noopener noreferrer' }, 'map') : ''],
  fields: (l = {}) => {
    const address = l.storefront_address || {};
    return [
      field('Location id', 'id', { value: l.id ?? '', required: true, readonly: l.id !== undefined, hint: 'The resource name, such as locations/123' }),
      field('Title', 'title', { value: l.title }),
      field('Store code', 'store_code', { value: l.store_code }),
      field('Maps URI', 'maps_uri', { value: l.maps_uri, type: 'url' }),
      h('fieldset', { class: 'address' }, h('legend', {}, 'Storefront address'),
        field('Address lines', 'storefront_address.address_lines', {
          type: 'textarea', value: (address.address_lines || []).join('\n'), hint: 'One line per line',
        }),
        ADDRESS_FIELDS.map(([label, name, hint]) =>
          field(label, `storefront_address.${name}`, { value: address[name], hint }))),
    ];
  },
  body: (v) => {
    const address = { address_lines: v['storefront_address.address_lines'].split('\n').map((line) => line.trim()).filter(Boolean) };
    for (const [, name] of ADDRESS_FIELDS) address[name] = orNull(v[`storefront_address.${name}`]);
    const empty = address.address_lines.length === 0 && ADDRESS_FIELDS.every(([, name]) => address[name] === null);
    return {
      title: orNull(v.title),
      store_code: orNull(v.store_code),
      maps_uri: orNull(v.maps_uri),
      storefront_address: empty ? null : address,
    };
  },
  newId: (v) => v.id.trim(),
};

function addressText(address) {
  if (!address) return '';
  return [...(address.address_lines || []), [address.postal_code, address.locality].filter(Boolean).join(' '),
    address.region_code].filter(Boolean).join(', ');
}

/** The list of a company's customers or locations, with a form to register, edit and remove them. */
function connectionSection(context, kind) {
  const section = h('section', {});
  const list = h('div', {});
  const editor = h('div', {});
  const collection = `${context.base}/${kind.path}`;
  const refresh = async () => {
    await context.loadConnections();
  };
  function showList() {
    list.replaceChildren(table([...kind.headings, ''], kind.list(context).map((item) => [
      ...kind.cells(item),
      h('span', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary small', onclick: () => showEditor(item) }, 'Edit'),
        actionButton('Remove', async () => {
          const sure = await ask({
            title: `Remove ${kind.one} ${item.id}?`,
            message: 'Threads scoped to it must be deleted first.',
            confirmLabel: 'Remove',
            danger: true,
          });
          if (!sure) return;
          await remove(`${collection}/${segment(String(item.id))}`);
          showNotice(`${kind.one} ${item.id} was removed.`, 'ok');
          showEditor();
          await refresh();
        }, { class: 'secondary small' })),
    ]), `No ${kind.title} registered yet.`));
  }
  function showEditor(item) {
    const editing = item !== undefined;
    const element = form({ class: 'card', 'aria-label': editing ? `Edit ${kind.one}` : `Register a ${kind.one}` }, [
      h('h3', {}, editing ? `Edit ${kind.one} ${item.id}` : `Register a ${kind.one}`),
      kind.fields(item),
    ], async (values) => {
      if (editing) {
        await patch(`${collection}/${segment(String(item.id))}`, kind.body(values));
        showNotice(`${kind.one} ${item.id} was saved.`, 'ok');
      } else {
        await post(collection, { id: kind.newId(values), ...kind.body(values) });
        showNotice(`${kind.one} ${values.id.trim()} was registered.`, 'ok');
      }
      showEditor();
      await refresh();
    }, editing ? 'Save changes' : 'Register');
    if (editing) {
      element.querySelector('.actions').append(h('button', { type: 'button', class: 'secondary', onclick: () => showEditor() }, 'Cancel'));
    }
    editor.replaceChildren(element);
    if (editing) element.scrollIntoView({ block: 'nearest' });
  }
  context.onConnections(showList);
  showList();
  showEditor();
  section.append(h('h2', {}, kind.title), h('div', { class: 'columns' }, list, editor));
  return section;
}
