// Drives Parley's CRM endpoints with HubSpot's official Node client
// (@hubspot/api-client), as an integration written for HubSpot would, and
// prints what it read as JSON for TestHubSpotClientCRM to check. Every
// typed answer must deserialize into the client's models; a check that
// fails exits non-zero, naming it.
//
// Environment: HUBSPOT_CLIENT (the package's directory), PARLEY_URL,
// PARLEY_TOKEN, CONTACT_ID, CONTACT_EMAIL.
'use strict';

const { Client } = require(process.env.HUBSPOT_CLIENT);

const client = new Client({ accessToken: process.env.PARLEY_TOKEN, basePath: process.env.PARLEY_URL, numberOfApiCallRetries: 0 });
const contactId = process.env.CONTACT_ID;
const email = process.env.CONTACT_EMAIL;

function check(ok, what) {
  if (!ok) throw new Error(`check failed: ${what}`);
}

// object checks a SimplePublicObject(WithAssociations) as the client typed it.
function object(o, model, what) {
  check(o instanceof model, `${what} is a ${model.name}`);
  check(typeof o.id === 'string' && o.id !== '', `${what}.id is a string`);
  check(o.createdAt instanceof Date && !isNaN(o.createdAt), `${what}.createdAt is a Date`);
  check(o.updatedAt instanceof Date && !isNaN(o.updatedAt), `${what}.updatedAt is a Date`);
  check(o.properties && typeof o.properties === 'object', `${what}.properties is an object`);
  for (const [k, v] of Object.entries(o.properties)) check(v === null || typeof v === 'string', `${what}.properties.${k} is a string or null`);
  return o;
}

async function main() {
  const contacts = require(process.env.HUBSPOT_CLIENT + '/lib/codegen/crm/contacts');
  const companies = require(process.env.HUBSPOT_CLIENT + '/lib/codegen/crm/companies');
  const assoc = require(process.env.HUBSPOT_CLIENT + '/lib/codegen/crm/associations/v4');
  const out = {};

  const c = object(
    await client.crm.contacts.basicApi.getById(contactId, ['email', 'firstname', 'company', 'nosuchproperty'], undefined, ['companies']),
    contacts.SimplePublicObjectWithAssociations,
    'contact',
  );
  check(!('nosuchproperty' in c.properties), 'an unknown property is left out');
  const ca = c.associations?.companies;
  check(ca instanceof contacts.CollectionResponseAssociatedId, 'contact.associations.companies is typed');
  out.contact = { id: c.id, email: c.properties.email, company: c.properties.company, companyIds: ca.results.map((r) => r.id) };

  const found = await client.crm.contacts.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: email.toUpperCase() }] }],
    properties: ['email', 'firstname'],
    sorts: ['email'],
    limit: 10,
  });
  check(found instanceof contacts.CollectionResponseWithTotalSimplePublicObjectForwardPaging, 'contact search is typed');
  check(typeof found.total === 'number', 'contact search total is a number');
  found.results.forEach((r, i) => object(r, contacts.SimplePublicObject, `contact search result ${i}`));
  out.contactSearch = { total: found.total, ids: found.results.map((r) => r.id) };

  const made = object(
    await client.crm.companies.basicApi.create({ properties: { name: 'Contract Co', domain: 'contract.example' }, associations: [] }),
    companies.SimplePublicObject,
    'created company',
  );
  const changed = object(await client.crm.companies.basicApi.update(made.id, { properties: { name: 'Contract Co GmbH' } }), companies.SimplePublicObject, 'updated company');
  check(changed.updatedAt >= made.updatedAt, 'update moves updatedAt');
  const got = object(
    await client.crm.companies.basicApi.getById(made.id, ['name', 'domain'], undefined, ['contacts']),
    companies.SimplePublicObjectWithAssociations,
    'company',
  );
  out.company = { id: got.id, name: got.properties.name, domain: got.properties.domain };

  const cs = await client.crm.companies.searchApi.doSearch({
    filterGroups: [{ filters: [{ propertyName: 'domain', operator: 'EQ', value: 'contract.example' }] }],
    properties: ['name'],
  });
  check(cs instanceof companies.CollectionResponseWithTotalSimplePublicObjectForwardPaging, 'company search is typed');
  cs.results.forEach((r, i) => object(r, companies.SimplePublicObject, `company search result ${i}`));
  out.companySearch = { total: cs.total, ids: cs.results.map((r) => r.id) };

  const put = await client.crm.associations.v4.basicApi.createDefault('contacts', contactId, 'companies', made.id);
  check(put instanceof assoc.BatchResponsePublicDefaultAssociation, 'createDefault is typed');
  check(put.startedAt instanceof Date && !isNaN(put.startedAt) && put.completedAt instanceof Date, 'createDefault times are Dates');
  check(put.results[0].associationSpec instanceof assoc.AssociationSpec, 'createDefault associationSpec is typed');
  out.createDefault = { status: put.status, from: put.results[0]._from.id, to: put.results[0].to.id, typeId: put.results[0].associationSpec.associationTypeId };

  const page = await client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'companies', undefined, 500);
  check(page instanceof assoc.CollectionResponseMultiAssociatedObjectWithLabelForwardPaging, 'getPage is typed');
  out.associations = page.results.map((r) => {
    check(r instanceof assoc.MultiAssociatedObjectWithLabel, 'association is typed');
    r.associationTypes.forEach((t) => check(t instanceof assoc.AssociationSpecWithLabel && typeof t.typeId === 'number', 'association type is typed'));
    return { to: String(r.toObjectId), typeIds: r.associationTypes.map((t) => t.typeId) };
  });

  await client.crm.associations.v4.basicApi.archive('contacts', contactId, 'companies', made.id);
  const after = await client.crm.associations.v4.basicApi.getPage('contacts', contactId, 'companies');
  out.afterArchive = after.results.map((r) => String(r.toObjectId));

  try {
    await client.crm.contacts.basicApi.getById('999999');
    check(false, 'an unknown contact is an error');
  } catch (err) {
    check(err.code === 404, `an unknown contact is 404, got ${err.code}`);
    out.notFound = err.code;
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n${err.body ? JSON.stringify(err.body) : ''}\n`);
  process.exit(1);
});
