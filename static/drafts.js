// Campaign drafts: a company's list (create, delete, open) and the draft wizard: the four steps
// as forms saved through the step PATCHes with their warnings shown at their fields, validate,
// and generation of RSAs and extensions with live status.

import { get, patch, post, remove } from './api.js';
import { actionButton, ask, clearNotice, field, fill, flash, form, h, orNull, showNotice, table, when } from './ui.js';

const DRAFTS = '/api/v1/campaigns/drafts';
const MATCH_TYPES = ['EXACT', 'PHRASE', 'BROAD', 'BROAD_MODIFIER', 'NEGATIVE'];
const BIDDING_TYPES = ['MAXIMIZE_CONVERSIONS', 'MAXIMIZE_CONVERSION_VALUE', 'TARGET_CPA', 'TARGET_ROAS',
  'MAXIMIZE_CLICKS', 'MANUAL_CPC'];
const statusText = (status) => (status || 'not_started').replace('_', ' ');

/** The address of a draft's wizard; the company is only where "back" leads. */
export const draftLink = (id, companyId) => `#/drafts/${id}${companyId ? `?company=${companyId}` : ''}`;

/** What was ever generated: `RSAs: 3 generated · extensions failed`, or `not started`. */
function generationText(d) {
  const rsas = d.ad_groups.flatMap((g) => g.rsas);
  const count = (...wanted) => rsas.filter((r) => wanted.includes(r.status)).length;
  const parts = [];
  if (count('pending', 'in_progress')) parts.push(`RSAs: ${count('pending', 'in_progress')} running`);
  if (count('failed')) parts.push(`RSAs: ${count('failed')} failed`);
  if (count('completed')) parts.push(`RSAs: ${count('completed')} generated`);
  if (d.extensions_generation_status !== 'not_started') parts.push(`extensions ${statusText(d.extensions_generation_status)}`);
  return parts.length ? parts.join(' · ') : 'not started';
}

export function draftsSection(context) {
  const section = h('section', {});
  const list = h('div', {});
  const creator = h('div', {});
  const customerText = (id) => {
    const customer = context.customers.find((c) => c.id === id);
    return customer?.descriptive_name ? `${customer.descriptive_name} (${id})` : String(id);
  };
  const reload = () => fill(list, async () => {
    const { drafts } = await get(`${DRAFTS}?company_id=${context.id}`);
    return table(['Draft', 'Customer', 'Updated', 'Generation', ''], drafts.map((d) => [
      h('a', { href: draftLink(d.id, context.id) }, d.name),
      customerText(d.google_ads_customer_id),
      when(d.date_updated),
      generationText(d),
      actionButton('Delete', async () => {
        const sure = await ask({
          title: 'Delete this campaign draft?',
          message: `“${d.name}”, its ad groups, keywords, ads and extensions are deleted for good.`,
          confirmLabel: 'Delete',
          danger: true,
        });
        if (!sure) return;
        await remove(`${DRAFTS}/${d.id}`);
        showNotice(`The draft “${d.name}” was deleted.`, 'ok');
        await reload();
      }, { class: 'secondary small' }),
    ]), 'No campaign draft yet.');
  });
  function buildCreator() {
    const customers = context.customers.map((c) => [String(c.id), `${c.descriptive_name || 'Customer'} (${c.id})`]);
    creator.replaceChildren(form({ class: 'card', 'aria-label': 'Create a campaign draft' }, [
      h('h3', {}, 'Create a campaign draft'),
      field('Name', 'name', { required: true, maxlength: 256 }),
      field('Google Ads customer', 'google_ads_customer_id', {
        type: 'select', options: [['', 'Choose…'], ...customers],
        hint: customers.length ? null : 'Register a Google Ads customer first.',
      }),
    ], async (v) => {
      if (!v.google_ads_customer_id) {
        throw Object.assign(new Error('Choose the Google Ads customer the campaign is for.'),
          { fields: { google_ads_customer_id: 'Required' } });
      }
      const draft = await post(`${DRAFTS}?company_id=${context.id}`, {
        name: v.name.trim(), google_ads_customer_id: Number(v.google_ads_customer_id),
      });
      location.hash = draftLink(draft.id, context.id);
    }, 'Create draft'));
  }
  context.onConnections(buildCreator);
  buildCreator();
  section.append(h('h2', {}, 'Campaign drafts'), h('div', { class: 'columns' }, list, creator));
  reload();
  return section;
}

// ---- Numbers as people type them ----------------------------------------------------------

/** An error shown beside the input named `name` (and above the form). */
const fieldError = (name, message) => Object.assign(new Error(message), { fields: { [name]: message } });

/** Money in units of the account's currency (as typed) -> micros; '' -> null. */
function micros(text, name) {
  const trimmed = String(text ?? '').trim();
  if (!trimmed) return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw fieldError(name, `“${trimmed}” is not an amount: type a number such as 25 or 12.50`);
  return Math.round(value * 1e6);
}
const units = (value) => (value === null || value === undefined ? '' : String(value / 1e6));

function decimal(text, name) {
  const trimmed = String(text ?? '').trim();
  if (!trimmed) return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw fieldError(name, `“${trimmed}” is not a number`);
  return value;
}

function idList(text, name) {
  return String(text).split(/[\s,]+/).filter(Boolean).map((part) => {
    if (!/^\d+$/.test(part)) throw fieldError(name, `“${part}” is not an id: digits only, separated by commas`);
    return Number(part);
  });
}

// ---- Warnings at their fields --------------------------------------------------------------

let slotCount = 0;

/** A place for the warnings of `path` (such as `ad_groups[0].rsas[1].headlines[2].text`). */
function warningSlot(path, input) {
  slotCount += 1;
  const slot = h('small', { class: 'field-warning', id: `warning-${slotCount}`, 'data-warning-for': path, hidden: true });
  if (input) input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), slot.id].filter(Boolean).join(' '));
  return slot;
}

/** A labelled field whose warnings show under it. */
function pathField(label, path, options) {
  const wrap = field(label, path, options);
  wrap.append(warningSlot(path, wrap.querySelector('input, select, textarea')));
  return wrap;
}

/** An input for a table cell, labelled for screen readers; `onValue` keeps the step's model. */
function cellInput(label, path, value, onValue, { options, ...rest } = {}) {
  const common = { name: path, 'aria-label': label, ...rest };
  const input = options
    ? h('select', common, options.map(([v, text]) => h('option', { value: v, selected: String(v) === String(value ?? '') }, text)))
    : h('input', { type: 'text', value: value ?? '', ...common });
  input.addEventListener(options ? 'change' : 'input', () => onValue(input.value));
  return h('div', { class: 'cell-field' }, input, warningSlot(path, input));
}

/** `a[0].b[1].c` -> `a[0].b[1]` -> `a[0].b` -> `a[0]` -> `a` -> ''. */
const parentPath = (path) => {
  const parent = path.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
  return parent === path ? '' : parent;
};

/**
 * Shows `warnings` ({path, code, message}) at the input or list their path names, else at the
 * nearest enclosing one that has a place; those with none are listed in `top`.
 */
function showWarnings(container, top, warnings) {
  container.querySelectorAll('.field-warning').forEach((slot) => { slot.hidden = true; slot.replaceChildren(); });
  container.querySelectorAll('.has-warning').forEach((input) => input.classList.remove('has-warning'));
  const unplaced = [];
  for (const warning of warnings) {
    let slot = null;
    for (let path = warning.path; path && !slot; path = parentPath(path)) {
      slot = container.querySelector(`[data-warning-for="${CSS.escape(path)}"]`);
    }
    if (!slot) {
      unplaced.push(warning);
      continue;
    }
    slot.append(h('span', { class: 'block' }, warning.message));
    slot.hidden = false;
    container.querySelector(`[name="${CSS.escape(slot.dataset.warningFor)}"]`)?.classList.add('has-warning');
  }
  top.hidden = unplaced.length === 0;
  top.replaceChildren(h('strong', {}, 'Warnings (saved anyway):'),
    h('ul', {}, unplaced.map((w) => h('li', {}, `${w.message} `, h('small', { class: 'mono muted' }, w.path)))));
}

// ---- The wizard ------------------------------------------------------------------------------

const STEPS = [
  ['settings', 'Settings'],
  ['ad-groups', 'Ad groups & keywords'],
  ['ads', 'Ads'],
  ['extensions', 'Extensions'],
];

export async function draftView(view, draftId, companyId) {
  const back = companyId ? `#/companies/${companyId}` : '#/companies';
  const base = `${DRAFTS}/${draftId}`;
  view.replaceChildren(h('p', { class: 'crumbs' }, h('a', { href: back }, '← Company')), h('p', { class: 'muted loading' }, 'Loading…'));
  let draft;
  try {
    draft = await get(base);
  } catch (err) {
    view.lastChild.replaceWith(h('p', { class: 'error-text', role: 'alert' }, err.message));
    return;
  }
  const heading = h('h1', {});
  const summary = h('p', { class: 'muted' });
  const validation = h('section', { class: 'card validation', 'aria-label': 'Validation', hidden: true });
  const warnings = Object.fromEntries(STEPS.map(([key]) => [key, []]));
  const panels = {};
  const dirty = new Set();
  // Generation done: the steps show the new copy, except those with unsaved edits (kept; the
  // status line offers to discard them).
  const generation = generationMonitor(base, async () => {
    await reload();
    return dirty.size === 0;
  }, () => reload(STEPS.map(([key]) => key)));

  /** Shows `changed`; steps with unsaved edits keep them unless named in `force`. */
  function setDraft(changed, force = []) {
    draft = changed;
    document.title = `${draft.name} · adthread`;
    heading.textContent = draft.name;
    summary.textContent = `Draft ${draft.id} · Google Ads customer ${draft.google_ads_customer_id} · updated ${when(draft.date_updated)}`;
    for (const [key] of STEPS) {
      if (force.includes(key) || !dirty.has(key)) {
        dirty.delete(key);
        renderStep(key);
      }
    }
  }
  async function reload(force = []) {
    setDraft(await get(base), force);
  }
  /** Saves a step; its warnings show at their fields, and generation it queued is followed. */
  async function save(key, suffix, body, query = '') {
    const answer = await patch(`${base}/${suffix}${query}`, body);
    warnings[key] = answer.warnings;
    validation.hidden = true; // it spoke of the draft before this change
    setDraft(answer.draft, [key]);
    const count = answer.warnings.length;
    showNotice(count ? `Saved, with ${count} warning${count === 1 ? '' : 's'} shown at the fields.` : 'Saved.', 'ok');
    generation.check();
  }
  const builders = {
    settings: () => settingsStep(draft, (body) => save('settings', 'campaign-settings', body)),
    'ad-groups': (model) => adGroupsStep(model, draft, rerender('ad-groups'),
      (body, regenerate) => save('ad-groups', 'ad-groups', body, regenerate ? '' : '?regenerate_rsas=false')),
    ads: (model) => adsStep(model, rerender('ads'), (body) => save('ads', 'ads', body),
      async (group) => {
        // A save of step 3 replaces an ad group's RSAs: a stale page would delete the new ones.
        if (dirty.has('ads')) throw new Error('Save your changes to the ads first: generation adds three RSAs to the saved ones.');
        const answer = await post(`${base}/ad-groups/${group.id}/rsa/generate`);
        generation.started(`RSA generation for “${group.name}” queued (${statusText(answer.status)}).`);
        await reload();
      }),
    extensions: (model) => extensionsStep(model, rerender('extensions'), (body) => save('extensions', 'extensions', body),
      async () => {
        // Generated extensions are added to the saved lists, which a save of step 4 replaces.
        if (dirty.has('extensions')) throw new Error('Save your changes to the extensions first: generation adds to the saved ones.');
        const answer = await post(`${base}/extensions/generate`);
        generation.started(`Extension generation queued (${statusText(answer.status)}).`);
      }),
  };
  const models = {};
  function modelOf(key) {
    if (key === 'ad-groups') {
      return draft.ad_groups.map((g) => ({
        id: g.id, name: g.name, bid: units(g.cpc_bid_micros),
        keywords: g.keywords.map((k) => ({ id: k.id, text: k.text, match_type: k.match_type, bid: units(k.cpc_bid_micros), final_url: k.final_url ?? '' })),
      }));
    }
    if (key === 'ads') return draft.ad_groups.map((g) => ({ id: g.id, name: g.name, rsas: structuredClone(g.rsas) }));
    if (key === 'extensions') return structuredClone(draft.extensions);
    return null;
  }
  function rerender(key) {
    return () => {
      dirty.add(key);
      draw(key);
    };
  }
  function renderStep(key) {
    models[key] = modelOf(key);
    draw(key);
  }
  function draw(key) {
    const top = h('div', { class: 'step-warnings', role: 'status', hidden: true });
    const content = builders[key](models[key]);
    content.addEventListener('input', () => dirty.add(key));
    panels[key].replaceChildren(top, content);
    showWarnings(content, top, warnings[key]);
  }

  const tabs = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Wizard steps' }, STEPS.map(([key, label], index) =>
    h('button', {
      type: 'button', role: 'tab', id: `tab-${key}`, 'aria-controls': `panel-${key}`,
      onclick: () => {
        clearNotice();
        select(key);
      },
    }, `${index + 1}. ${label}`)));
  function select(key) {
    for (const [name] of STEPS) {
      document.getElementById(`tab-${name}`).setAttribute('aria-selected', String(name === key));
      panels[name].hidden = name !== key;
    }
    sessionStorage.setItem('adthread.draftStep', key);
  }
  for (const [key] of STEPS) {
    panels[key] = h('section', { id: `panel-${key}`, role: 'tabpanel', 'aria-labelledby': `tab-${key}` });
  }
  const toolbar = h('div', { class: 'toolbar' },
    actionButton('Validate', async () => {
      clearNotice();
      const answer = await post(`${base}/validate`);
      showValidation(validation, answer);
    }),
    actionButton('Delete draft', async () => {
      const sure = await ask({
        title: 'Delete this campaign draft?',
        message: 'The draft, its ad groups, keywords, ads and extensions are deleted for good.',
        confirmLabel: 'Delete',
        danger: true,
      });
      if (!sure) return;
      await remove(base);
      flash(`The draft “${draft.name}” was deleted.`);
      location.hash = back;
    }, { class: 'danger' }));
  view.lastChild.replaceWith(heading, summary, toolbar, validation, generation.element, tabs, ...Object.values(panels));
  setDraft(draft);
  const saved = sessionStorage.getItem('adthread.draftStep');
  select(STEPS.some(([key]) => key === saved) ? saved : 'settings');
  generation.check();
}

function showValidation(box, answer) {
  box.hidden = false;
  box.className = `card validation ${answer.valid ? 'is-valid' : 'is-invalid'}`;
  // One wrapper: h() leaves out the parts that are null (replaceChildren would print "null").
  box.replaceChildren(h('div', {},
    h('h2', {}, answer.valid ? 'Ready: the draft is valid' : `Not ready: ${answer.errors.length} error${answer.errors.length === 1 ? '' : 's'}`),
    answer.errors.length ? h('ul', { class: 'errors' }, answer.errors.map((e) =>
      h('li', {}, `${e.message} `, h('small', { class: 'mono muted' }, e.field)))) : null,
    answer.warnings.length ? h('div', { class: 'advice' }, h('h3', {}, 'Advice'), h('ul', {}, answer.warnings.map((w) => h('li', {}, w)))) : null));
}

/**
 * The generation status line: polls `generation-status` every second until `all_complete`, then
 * calls `onComplete` (which answers false when the page has unsaved edits to keep).
 */
function generationMonitor(base, onComplete, showAnyway) {
  const element = h('section', { class: 'card generation', 'aria-label': 'Generation', 'aria-live': 'polite', hidden: true });
  let polling = false;
  let watched = false;
  function line(label, part) {
    return h('li', {}, `${label}: `, h('span', { class: `status status-${part.status}` }, statusText(part.status)),
      part.error ? h('span', { class: 'error-text' }, ` ${part.error}`) : null);
  }
  function render(status, note) {
    const rsas = status.rsas;
    const count = (wanted) => rsas.filter((r) => wanted.includes(r.status)).length;
    const never = [status.ad_groups, status.extensions, ...rsas].every((part) => part.status === 'not_started');
    element.hidden = never && status.all_complete && !note;
    element.replaceChildren(...[
      h('h2', {}, status.all_complete ? 'Generation is complete' : 'Generating…'),
      note && !status.all_complete ? h('p', {}, note) : null,
      h('ul', { class: 'generation-lines' },
        status.ad_groups.status === 'not_started' ? null : line('Ad groups', status.ad_groups),
        rsas.length ? h('li', {}, `RSAs: ${count(['completed'])} completed, ${count(['pending', 'in_progress'])} waiting, ${count(['failed'])} failed`) : null,
        line('Extensions', status.extensions),
        rsas.filter((r) => r.error).slice(0, 3).map((r) => h('li', { class: 'error-text' }, `RSA ${r.rsa_id}: ${r.error}`))),
    ].filter(Boolean));
  }
  async function poll(note) {
    polling = true;
    try {
      for (;;) {
        if (!element.isConnected && watched) return;
        const status = await get(`${base}/generation-status`);
        render(status, note);
        if (status.all_complete) {
          if (watched && !(await onComplete())) {
            element.append(h('p', {}, 'Steps with unsaved changes still show them, not the generated copy. ',
              actionButton('Discard my changes and show it', showAnyway, { class: 'secondary small' })));
          }
          watched = false;
          return;
        }
        watched = true;
        await new Promise((resolve) => { setTimeout(resolve, 1000); });
      }
    } catch (err) {
      element.hidden = false;
      element.replaceChildren(h('p', { class: 'error-text' }, `Generation status: ${err.message}`));
    } finally {
      polling = false;
    }
  }
  return {
    element,
    /** Looks once, and follows generation if some is running. */
    check() {
      if (!polling) poll();
    },
    started(note) {
      watched = true;
      element.hidden = false;
      element.replaceChildren(h('h2', {}, 'Generating…'), h('p', {}, note));
      if (!polling) poll(note);
    },
  };
}

// ---- Step 1: settings -------------------------------------------------------------------------

function settingsStep(draft, save) {
  const bidding = draft.bidding_strategy || {};
  const network = draft.network_settings || { target_google_search: true, target_search_network: true, target_content_network: false };
  const biddingOptions = [['', 'Not set'], ...BIDDING_TYPES.map((t) => [t, t])];
  if (bidding.type && !BIDDING_TYPES.includes(bidding.type)) biddingOptions.push([bidding.type, bidding.type]);
  return form({ class: 'card step', 'aria-label': 'Campaign settings' }, [
    h('h2', {}, 'Step 1: campaign settings'),
    h('div', { class: 'grid-fields' },
      pathField('Draft name', 'name', { value: draft.name, required: true, maxlength: 256 }),
      pathField('Campaign name', 'campaign_name', { value: draft.campaign_name, hint: 'As shown in Google Ads' }),
      pathField('Website URL', 'website_url', { value: draft.website_url }),
      pathField('Daily budget', 'daily_budget_micros', { value: units(draft.daily_budget_micros), inputmode: 'decimal', hint: 'In the account\'s currency' }),
      pathField('Bidding strategy', 'bidding_strategy.type', { type: 'select', value: bidding.type, options: biddingOptions }),
      pathField('Target CPA', 'bidding_strategy.target_cpa_micros', { value: units(bidding.target_cpa_micros), inputmode: 'decimal' }),
      pathField('Target ROAS', 'bidding_strategy.target_roas', { value: bidding.target_roas ?? '', inputmode: 'decimal', hint: 'Such as 4 for 400%' }),
      pathField('Max CPC bid limit', 'bidding_strategy.max_cpc_bid_ceiling_micros', { value: units(bidding.max_cpc_bid_ceiling_micros), inputmode: 'decimal' }),
      pathField('Default match type', 'default_match_type', { type: 'select', value: draft.default_match_type, options: MATCH_TYPES.map((t) => [t, t]) }),
      pathField('Language ids', 'language_ids', { value: draft.language_ids.join(', '), hint: 'Google Ads language criteria, such as 1002' }),
      pathField('Location ids', 'location_targets', { value: draft.location_targets.map((t) => t.geo_target_constant_id).join(', '), hint: 'Geo target constants, such as 2250' }),
      pathField('Start date', 'start_date', { type: 'date', value: draft.start_date }),
      pathField('End date', 'end_date', { type: 'date', value: draft.end_date })),
    h('fieldset', { class: 'group' }, h('legend', {}, 'Networks'),
      field('Google Search', 'network_settings.target_google_search', { type: 'checkbox', value: network.target_google_search }),
      field('Search partners', 'network_settings.target_search_network', { type: 'checkbox', value: network.target_search_network }),
      field('Display network', 'network_settings.target_content_network', { type: 'checkbox', value: network.target_content_network })),
    draft.ad_schedule || draft.conversion_goals.length
      ? h('p', { class: 'muted' }, 'The ad schedule and conversion goals are kept as they are (edit them through the API).')
      : null,
  ], async (v) => {
    const targets = idList(v.location_targets, 'location_targets').map((id) =>
      draft.location_targets.find((t) => t.geo_target_constant_id === id) || { geo_target_constant_id: id, target_type: 'INCLUDE' });
    const strategy = {
      type: orNull(v['bidding_strategy.type']),
      target_cpa_micros: micros(v['bidding_strategy.target_cpa_micros'], 'bidding_strategy.target_cpa_micros'),
      target_roas: decimal(v['bidding_strategy.target_roas'], 'bidding_strategy.target_roas'),
      max_cpc_bid_ceiling_micros: micros(v['bidding_strategy.max_cpc_bid_ceiling_micros'], 'bidding_strategy.max_cpc_bid_ceiling_micros'),
    };
    await save({
      name: v.name.trim(),
      campaign_name: orNull(v.campaign_name),
      website_url: orNull(v.website_url),
      daily_budget_micros: micros(v.daily_budget_micros, 'daily_budget_micros'),
      bidding_strategy: Object.values(strategy).every((value) => value === null) ? null : strategy,
      default_match_type: v.default_match_type,
      language_ids: idList(v.language_ids, 'language_ids'),
      location_targets: targets,
      network_settings: {
        target_google_search: v['network_settings.target_google_search'],
        target_search_network: v['network_settings.target_search_network'],
        target_content_network: v['network_settings.target_content_network'],
      },
      start_date: orNull(v.start_date),
      end_date: orNull(v.end_date),
    });
  }, 'Save settings');
}

// ---- Step 2: ad groups and keywords -----------------------------------------------------------

const removeButton = (label, onclick) => h('button', { type: 'button', class: 'secondary small', 'aria-label': label, onclick }, 'Remove');

function adGroupsStep(groups, draft, changed, save) {
  const regenerate = field('Regenerate the ad groups\' RSAs when a name or keyword text changes', 'regenerate_rsas', { type: 'checkbox', value: true });
  const cards = groups.map((group, g) => {
    const at = `ad_groups[${g}]`;
    const rows = group.keywords.map((keyword, k) => {
      const kat = `${at}.keywords[${k}]`;
      const n = k + 1;
      return [
        cellInput(`Keyword ${n}`, `${kat}.text`, keyword.text, (text) => { keyword.text = text; }),
        cellInput(`Keyword ${n} match type`, `${kat}.match_type`, keyword.match_type, (type) => { keyword.match_type = type; },
          { options: MATCH_TYPES.map((t) => [t, t]) }),
        cellInput(`Keyword ${n} max CPC`, `${kat}.cpc_bid_micros`, keyword.bid, (bid) => { keyword.bid = bid; }, { inputmode: 'decimal', size: 6 }),
        cellInput(`Keyword ${n} final URL`, `${kat}.final_url`, keyword.final_url, (url) => { keyword.final_url = url; }),
        removeButton(`Remove keyword ${n}`, () => {
          group.keywords.splice(k, 1);
          changed();
        }),
      ];
    });
    const name = pathField('Ad group name', `${at}.name`, { value: group.name });
    name.querySelector('input').addEventListener('input', (event) => { group.name = event.target.value; });
    const bid = pathField('Max CPC bid', `${at}.cpc_bid_micros`, { value: group.bid, inputmode: 'decimal', hint: 'In the account\'s currency; empty: none' });
    bid.querySelector('input').addEventListener('input', (event) => { group.bid = event.target.value; });
    return h('fieldset', { class: 'group', 'aria-label': `Ad group ${g + 1}` },
      h('legend', {}, `Ad group ${g + 1}`),
      warningSlot(at),
      h('div', { class: 'grid-fields' }, name, bid),
      h('h3', {}, 'Keywords'),
      warningSlot(`${at}.keywords`),
      table(['Keyword', 'Match type', 'Max CPC', 'Final URL', ''], rows, 'No keyword yet.'),
      h('div', { class: 'actions' },
        h('button', {
          type: 'button', class: 'secondary',
          onclick: () => {
            group.keywords.push({ id: null, text: '', match_type: draft.default_match_type, bid: '', final_url: '' });
            changed();
          },
        }, 'Add keyword'),
        h('button', {
          type: 'button', class: 'secondary',
          onclick: () => {
            groups.splice(g, 1);
            changed();
          },
        }, 'Remove ad group')));
  });
  return form({ class: 'card step', 'aria-label': 'Ad groups and keywords' }, [
    h('h2', {}, 'Step 2: ad groups and keywords'),
    warningSlot('ad_groups'),
    cards.length ? cards : h('p', { class: 'muted empty' }, 'No ad group yet.'),
    h('div', { class: 'actions' }, h('button', {
      type: 'button', class: 'secondary',
      onclick: () => {
        groups.push({ id: null, name: '', bid: '', keywords: [] });
        changed();
      },
    }, 'Add ad group')),
    regenerate,
  ], async (v) => {
    const body = {
      ad_groups: groups.map((group, g) => ({
        ...(group.id ? { id: group.id } : {}),
        name: group.name,
        cpc_bid_micros: micros(group.bid, `ad_groups[${g}].cpc_bid_micros`),
        keywords: group.keywords.map((k, n) => ({
          ...(k.id ? { id: k.id } : {}),
          text: k.text,
          match_type: k.match_type,
          cpc_bid_micros: micros(k.bid, `ad_groups[${g}].keywords[${n}].cpc_bid_micros`),
          final_url: orNull(k.final_url),
        })),
      })),
    };
    await save(body, v.regenerate_rsas);
  }, 'Save ad groups');
}

// ---- Step 3: responsive search ads ------------------------------------------------------------

function textRows(items, kind, at, pins, changed) {
  return items.map((item, n) => [
    cellInput(`${kind} ${n + 1}`, `${at}[${n}].text`, item.text, (text) => { item.text = text; }),
    cellInput(`${kind} ${n + 1} pinned position`, `${at}[${n}].pinned_position`, item.pinned_position ?? '',
      (pin) => { item.pinned_position = pin ? Number(pin) : null; },
      { options: [['', 'Any'], ...pins.map((p) => [String(p), String(p)])] }),
    removeButton(`Remove ${kind.toLowerCase()} ${n + 1}`, () => {
      items.splice(n, 1);
      changed();
    }),
  ]);
}

function adsStep(groups, changed, save, generate) {
  const sections = groups.map((group, g) => {
    const at = `ad_groups[${g}]`;
    const rsaCards = group.rsas.map((rsa, r) => {
      const rat = `${at}.rsas[${r}]`;
      const pathInput = (label, key, hint) => {
        const wrap = pathField(label, `${rat}.${key}`, { value: rsa[key], hint });
        wrap.querySelector('input').addEventListener('input', (event) => { rsa[key] = event.target.value; });
        return wrap;
      };
      return h('fieldset', { class: 'group rsa', 'aria-label': `${group.name}: RSA ${r + 1}` },
        h('legend', {}, `RSA ${r + 1} `, h('span', { class: `status status-${rsa.status}` }, statusText(rsa.status))),
        rsa.error ? h('p', { class: 'error-text' }, rsa.error) : null,
        warningSlot(rat),
        h('h4', {}, 'Headlines'),
        warningSlot(`${rat}.headlines`),
        table(['Headline', 'Pin', ''], textRows(rsa.headlines, 'Headline', `${rat}.headlines`, [1, 2, 3], changed), 'No headline yet.'),
        h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'secondary small',
          onclick: () => {
            rsa.headlines.push({ text: '', pinned_position: null });
            changed();
          },
        }, 'Add headline')),
        h('h4', {}, 'Descriptions'),
        warningSlot(`${rat}.descriptions`),
        table(['Description', 'Pin', ''], textRows(rsa.descriptions, 'Description', `${rat}.descriptions`, [1, 2], changed), 'No description yet.'),
        h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'secondary small',
          onclick: () => {
            rsa.descriptions.push({ text: '', pinned_position: null });
            changed();
          },
        }, 'Add description')),
        h('div', { class: 'grid-fields' },
          pathInput('Path 1', 'path1', 'Shown after the domain'),
          pathInput('Path 2', 'path2'),
          pathInput('Final URL', 'final_url', 'Empty: the website URL')),
        h('div', { class: 'actions' }, h('button', {
          type: 'button', class: 'secondary',
          onclick: () => {
            group.rsas.splice(r, 1);
            changed();
          },
        }, 'Remove RSA')));
    });
    return h('section', { class: 'ad-group-ads', 'aria-label': `Ads of ${group.name}` },
      h('h3', {}, `Ad group: ${group.name}`),
      warningSlot(`${at}.rsas`),
      h('div', { class: 'toolbar' },
        actionButton('Generate RSAs', () => generate(group).catch(explainGeneration), { class: 'secondary' }),
        h('button', {
          type: 'button', class: 'secondary',
          onclick: () => {
            group.rsas.push({ id: null, headlines: [], descriptions: [], path1: '', path2: '', final_url: '', status: 'not_started', error: null });
            changed();
          },
        }, 'Add RSA')),
      rsaCards.length ? rsaCards : h('p', { class: 'muted empty' }, 'No RSA yet: write one or generate three.'));
  });
  return form({ class: 'card step', 'aria-label': 'Ads' }, [
    h('h2', {}, 'Step 3: responsive search ads'),
    h('p', { class: 'muted' }, 'Up to 15 headlines of 30 characters and 4 descriptions of 90. An ad you edit here is never overwritten by generation.'),
    sections.length ? sections : h('p', { class: 'muted empty' }, 'Add an ad group in step 2 first.'),
  ], async () => {
    const rsas = groups.flatMap((group) => group.rsas.map((rsa) => ({
      ...(rsa.id ? { id: rsa.id } : {}),
      ad_group_id: group.id,
      headlines: rsa.headlines.map(({ text, pinned_position }) => ({ text, pinned_position: pinned_position ?? null })),
      descriptions: rsa.descriptions.map(({ text, pinned_position }) => ({ text, pinned_position: pinned_position ?? null })),
      path1: orNull(rsa.path1 ?? ''),
      path2: orNull(rsa.path2 ?? ''),
      final_url: orNull(rsa.final_url ?? ''),
    })));
    await save({ rsas });
  }, 'Save ads');
}

/** A generate call's failure, in words for the person who clicked: 503 means no model. */
function explainGeneration(err) {
  if (err.status === 503) {
    throw new Error(`Generation is not available. ${err.message}`);
  }
  throw err;
}

// ---- Step 4: extensions ------------------------------------------------------------------------

function extensionsStep(ext, changed, save, generate) {
  const at = 'extensions';
  const listActions = (label, add) => h('div', { class: 'actions' }, h('button', {
    type: 'button', class: 'secondary small',
    onclick: () => {
      add();
      changed();
    },
  }, label));
  const sitelinks = ext.sitelinks.map((s, n) => {
    const sat = `${at}.sitelinks[${n}]`;
    const set = (key) => (value) => { s[key] = value; };
    return [
      cellInput(`Sitelink ${n + 1} link text`, `${sat}.link_text`, s.link_text, set('link_text')),
      cellInput(`Sitelink ${n + 1} description 1`, `${sat}.description_1`, s.description_1, set('description_1')),
      cellInput(`Sitelink ${n + 1} description 2`, `${sat}.description_2`, s.description_2, set('description_2')),
      cellInput(`Sitelink ${n + 1} final URL`, `${sat}.final_url`, s.final_url, set('final_url')),
      removeButton(`Remove sitelink ${n + 1}`, () => {
        ext.sitelinks.splice(n, 1);
        changed();
      }),
    ];
  });
  const callouts = ext.callouts.map((c, n) => [
    cellInput(`Callout ${n + 1}`, `${at}.callouts[${n}].callout_text`, c.callout_text, (text) => { c.callout_text = text; }),
    removeButton(`Remove callout ${n + 1}`, () => {
      ext.callouts.splice(n, 1);
      changed();
    }),
  ]);
  const snippets = ext.structured_snippets.map((s, n) => [
    cellInput(`Snippet ${n + 1} header`, `${at}.structured_snippets[${n}].header`, s.header, (header) => { s.header = header; }),
    cellInput(`Snippet ${n + 1} values`, `${at}.structured_snippets[${n}].values`, s.values.join(', '),
      (text) => { s.values = text.split(',').map((value) => value.trim()).filter(Boolean); }),
    removeButton(`Remove snippet ${n + 1}`, () => {
      ext.structured_snippets.splice(n, 1);
      changed();
    }),
  ]);
  // Kept in the model, as the other lists: adding a row redraws the form.
  ext.phone = ext.phone || { phone_number: '', country_code: '' };
  const phoneNumber = pathField('Phone number', `${at}.phone.phone_number`, { value: ext.phone.phone_number, type: 'tel', hint: 'Empty: no call extension' });
  const country = pathField('Country code', `${at}.phone.country_code`, { value: ext.phone.country_code, hint: 'Such as FR' });
  phoneNumber.querySelector('input').addEventListener('input', (event) => { ext.phone.phone_number = event.target.value; });
  country.querySelector('input').addEventListener('input', (event) => { ext.phone.country_code = event.target.value; });
  return form({ class: 'card step', 'aria-label': 'Extensions' }, [
    h('h2', {}, 'Step 4: extensions'),
    h('div', { class: 'toolbar' }, actionButton('Generate extensions', () => generate().catch(explainGeneration), { class: 'secondary' })),
    h('h3', {}, 'Sitelinks'),
    warningSlot(`${at}.sitelinks`),
    table(['Link text', 'Description 1', 'Description 2', 'Final URL', ''], sitelinks, 'No sitelink yet.'),
    listActions('Add sitelink', () => ext.sitelinks.push({ link_text: '', description_1: '', description_2: '', final_url: '', final_mobile_url: null })),
    h('h3', {}, 'Callouts'),
    warningSlot(`${at}.callouts`),
    table(['Callout', ''], callouts, 'No callout yet.'),
    listActions('Add callout', () => ext.callouts.push({ callout_text: '' })),
    h('h3', {}, 'Call'),
    h('div', { class: 'grid-fields' }, phoneNumber, country),
    h('h3', {}, 'Structured snippets'),
    warningSlot(`${at}.structured_snippets`),
    table(['Header', 'Values', ''], snippets, 'No structured snippet yet.'),
    listActions('Add snippet', () => ext.structured_snippets.push({ header: '', values: [] })),
  ], async () => {
    const number = ext.phone.phone_number.trim();
    await save({
      sitelinks: ext.sitelinks.map((s) => ({
        link_text: s.link_text,
        final_url: orNull(s.final_url ?? ''),
        description_1: orNull(s.description_1 ?? ''),
        description_2: orNull(s.description_2 ?? ''),
        final_mobile_url: s.final_mobile_url ?? null,
      })),
      callouts: ext.callouts.map((c) => ({ callout_text: c.callout_text })),
      phone: number ? { phone_number: number, country_code: orNull(ext.phone.country_code ?? '') } : null,
      structured_snippets: ext.structured_snippets.map((s) => ({ header: s.header, values: s.values })),
    });
  }, 'Save extensions');
}
