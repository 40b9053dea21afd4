// Reads one iCalendar text on standard input with Mozilla's ical.js (the parser of Thunderbird's lineage and of
// many web calendars) and prints what it understood as JSON: each VEVENT's UID, summary, status, sequence,
// start and end as UTC instants (computed from the calendar's own VTIMEZONEs), organizer and attendees.
// A text ical.js cannot read, or a TZID no VTIMEZONE of the calendar defines, exits 1 with the reason on stderr.
// Used by tests/helpers.py (parsed_everywhere); needs `npm ci` (make install-dev).
import ICAL from "ical.js";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString("utf8");
}

function utc(time) {
  return time ? time.convertToZone(ICAL.Timezone.utcTimezone).toString() : null;
}

function zoneOf(property, time, known) {
  const tzid = property ? property.getParameter("tzid") : null;
  if (tzid && !known.has(tzid)) throw new Error(`TZID ${tzid} has no VTIMEZONE in the calendar`);
  return tzid || (time && time.zone === ICAL.Timezone.utcTimezone ? "UTC" : null);
}

function person(property) {
  return {
    address: property.getFirstValue(),
    cn: property.getParameter("cn") ?? null,
    partstat: property.getParameter("partstat") ?? null,
    role: property.getParameter("role") ?? null,
    rsvp: property.getParameter("rsvp") ?? null,
  };
}

const text = await readStdin();
let calendar;
try {
  calendar = new ICAL.Component(ICAL.parse(text));
} catch (error) {
  process.stderr.write(`ical.js cannot parse the calendar: ${error.message}\n`);
  process.exit(1);
}
try {
  if (calendar.name !== "vcalendar") throw new Error(`the top component is ${calendar.name}, not VCALENDAR`);
  const known = new Set();
  for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
    const zone = new ICAL.Timezone(vtimezone);
    ICAL.TimezoneService.register(zone.tzid, zone);
    known.add(zone.tzid);
  }
  const events = calendar.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    const organizer = vevent.getFirstProperty("organizer");
    return {
      uid: event.uid,
      summary: event.summary ?? null,
      location: event.location ?? null,
      description: event.description ?? null,
      status: vevent.getFirstPropertyValue("status"),
      sequence: event.sequence ?? null,
      start: utc(event.startDate),
      end: utc(event.endDate),
      zone: zoneOf(vevent.getFirstProperty("dtstart"), event.startDate, known),
      end_zone: zoneOf(vevent.getFirstProperty("dtend"), event.endDate, known),
      organizer: organizer ? person(organizer) : null,
      attendees: vevent.getAllProperties("attendee").map(person),
    };
  });
  const result = {
    method: calendar.getFirstPropertyValue("method"),
    version: calendar.getFirstPropertyValue("version"),
    prodid: calendar.getFirstPropertyValue("prodid"),
    timezones: [...known],
    events,
  };
  process.stdout.write(JSON.stringify(result));
} catch (error) {
  process.stderr.write(`ical.js: ${error.message}\n`);
  process.exit(1);
}
