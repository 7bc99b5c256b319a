//! Deterministic, realistic data for demos, tests and benchmarks: the same seed gives the same
//! customers. Organisations come from a few hundred companies (so a search for one matches many);
//! per customer on average 5 tickets of 3 messages (about 1 in 10 in the trash), 1–2 live chat
//! conversations of 4 messages, and 1 note.

use std::fmt;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use diesel::dsl::max;
use diesel::prelude::*;
use indicatif::{ProgressBar, ProgressStyle};

use crate::db::{write_transaction, DbConn};
use crate::domain::{group_thousands, plural};
use crate::schema::{
    chat_conversations, chat_messages, customers, notes, ticket_messages, tickets,
};

/// Customers written per transaction: large enough to amortise commits, small enough to keep
/// memory flat and let other writers in between.
const CUSTOMERS_PER_BATCH: usize = 1_000;
/// Rows per INSERT statement: under SQLite's 32,766 bound parameters for the widest table.
const ROWS_PER_STATEMENT: usize = 2_000;

const FIRST_NAMES: &[&str] = &[
    "Ada",
    "Alan",
    "Grace",
    "Edsger",
    "Barbara",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "Dennis",
    "Radia",
    "Tim",
    "Hedy",
    "Linus",
    "Katherine",
    "John",
    "Mary",
    "James",
    "Sophie",
    "Oliver",
    "Amelia",
    "Noah",
    "Isla",
    "Leo",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Chloe",
    "Mateo",
    "Zoe",
    "Hugo",
    "Nora",
    "Arjun",
    "Priya",
    "Wei",
    "Mei",
    "Kenji",
    "Yuki",
    "Omar",
    "Layla",
    "Ibrahim",
    "Fatima",
    "Diego",
    "Lucia",
    "Pierre",
    "Camille",
    "Lars",
    "Ingrid",
    "Sven",
    "Anika",
    "Tomasz",
    "Zofia",
    "Dmitri",
    "Olga",
    "Kwame",
    "Amara",
    "Tariq",
    "Leila",
    "Rafael",
    "Beatriz",
    "Niamh",
    "Cian",
    "Eilidh",
    "Callum",
    "Freya",
    "Magnus",
    "Astrid",
    "Jonas",
    "Elif",
    "Emre",
    "Sara",
    "Daniel",
    "Hannah",
    "Samuel",
    "Ruth",
    "David",
    "Esther",
    "Paul",
    "Clara",
];

const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "Turing",
    "Hopper",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Ritchie",
    "Perlman",
    "Berners-Lee",
    "Lamarr",
    "Torvalds",
    "Johnson",
    "McCarthy",
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Davies",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Martin",
    "Jackson",
    "Clarke",
    "Patel",
    "Khan",
    "Singh",
    "Chen",
    "Wang",
    "Li",
    "Tanaka",
    "Sato",
    "Suzuki",
    "Kim",
    "Park",
    "Nguyen",
    "Garcia",
    "Martinez",
    "Rodriguez",
    "Lopez",
    "Dubois",
    "Moreau",
    "Muller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Rossi",
    "Russo",
    "Ferrari",
    "Jensen",
    "Hansen",
    "Nielsen",
    "Andersson",
    "Johansson",
    "Kowalski",
    "Nowak",
    "Ivanov",
    "Petrova",
    "Mensah",
    "Okafor",
    "Haddad",
    "O'Brien",
    "Murphy",
    "Kelly",
    "Byrne",
    "MacLeod",
    "Yilmaz",
    "Kaya",
    "Cohen",
    "Levi",
];

const COMPANY_NAMES: &[&str] = &[
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Vandelay",
    "Soylent",
    "Wonka",
    "Cyberdyne",
    "Tyrell",
    "Stark",
    "Wayne",
    "Oscorp",
    "Aperture",
    "Black Mesa",
    "Gringotts",
    "Monarch",
    "Pied Piper",
    "Dunder Mifflin",
    "Sterling Cooper",
    "Prestige",
    "Nakatomi",
    "Weyland",
    "Massive Dynamic",
    "Virtucon",
];

const COMPANY_KINDS: &[&str] = &[
    "Ltd",
    "Group",
    "Logistics",
    "Systems",
    "Foods",
    "Labs",
    "Consulting",
    "Retail",
    "Energy",
    "Health",
    "Media",
    "Holdings",
];

const JOB_TITLES: &[&str] = &[
    "Office Manager",
    "Head of Operations",
    "IT Administrator",
    "Customer Success Lead",
    "Procurement Officer",
    "Finance Director",
    "Software Engineer",
    "Support Specialist",
    "Chief Executive",
    "Marketing Manager",
    "Account Executive",
    "Data Analyst",
    "Facilities Coordinator",
    "HR Partner",
    "Product Owner",
    "",
];

const SUBJECTS: &[&str] = &[
    "Cannot sign in to the portal",
    "Invoice shows the wrong amount",
    "Request for a refund",
    "Delivery has not arrived",
    "How do I export my data?",
    "Password reset link expired",
    "Feature request: dark mode",
    "Billing address change",
    "App crashes on start",
    "Upgrade to the annual plan",
    "Duplicate charge on my card",
    "Add a new team member",
    "API returns error 500",
    "Cancel my subscription",
    "Question about the contract",
];

const STATUSES: &[&str] = &["active", "waiting", "on_hold", "solved", "closed"];

const SENTENCES: &[&str] = &[
    "Thanks for getting back to me so quickly.",
    "I have attached a screenshot of the problem.",
    "This started happening after the last update.",
    "Could you please look into this today?",
    "We tried again this morning and it still fails.",
    "Our whole team is affected by this.",
    "I checked the settings as you suggested.",
    "Please let me know if you need anything else.",
    "The order number is in the subject line.",
    "That fixed it, thank you very much!",
];

/// What the seeded data looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Shape {
    /// Varied, realistic data from a seeded random generator (demos and tests).
    #[default]
    Realistic,
    /// Exactly the shape of the Django admin benchmark project (../shared/bench/django-admin):
    /// per customer 5 tickets of 3 messages, 1 chat of 4 messages and 1 note; every 10th
    /// customer in organisation "Acme" and nothing else containing "acme".
    Bench,
}

#[derive(Insertable)]
#[diesel(table_name = customers)]
struct CustomerRow {
    id: i64,
    first_name: String,
    last_name: String,
    email: String,
    phone: String,
    organisation: String,
    job_title: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = tickets, treat_none_as_default_value = false)]
struct TicketRow {
    id: i64,
    customer_id: i64,
    subject: String,
    status: &'static str,
    trashed_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = ticket_messages)]
struct TicketMessageRow {
    id: i64,
    ticket_id: i64,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = chat_conversations)]
struct ChatRow {
    id: i64,
    customer_id: i64,
    started_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = chat_messages)]
struct ChatMessageRow {
    id: i64,
    conversation_id: i64,
    body: String,
    created_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = notes)]
struct NoteRow {
    id: i64,
    customer_id: i64,
    body: String,
    created_at: NaiveDateTime,
}

/// How much a seed run wrote, and how long it took.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SeedReport {
    pub customers: u64,
    pub tickets: u64,
    pub ticket_messages: u64,
    pub chats: u64,
    pub chat_messages: u64,
    pub notes: u64,
    pub elapsed: Duration,
}

impl SeedReport {
    pub fn rows(&self) -> u64 {
        self.customers
            + self.tickets
            + self.ticket_messages
            + self.chats
            + self.chat_messages
            + self.notes
    }
}

impl fmt::Display for SeedReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Seeded {} with {}, {}, {}, {} and {} ({} rows) in {:.1} s",
            plural(self.customers as i64, "customer", "customers"),
            plural(self.tickets as i64, "ticket", "tickets"),
            plural(
                self.ticket_messages as i64,
                "ticket message",
                "ticket messages"
            ),
            plural(self.chats as i64, "chat conversation", "chat conversations"),
            plural(self.chat_messages as i64, "chat message", "chat messages"),
            plural(self.notes as i64, "note", "notes"),
            group_thousands(self.rows() as i64),
            self.elapsed.as_secs_f64()
        )
    }
}

/// Next free id of each table: seeded rows carry explicit ids so that children can point at
/// their parents without reading ids back.
struct NextIds {
    customer: i64,
    ticket: i64,
    ticket_message: i64,
    chat: i64,
    chat_message: i64,
    note: i64,
}

fn next_ids(conn: &mut DbConn) -> QueryResult<NextIds> {
    Ok(NextIds {
        customer: customers::table
            .select(max(customers::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        ticket: tickets::table
            .select(max(tickets::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        ticket_message: ticket_messages::table
            .select(max(ticket_messages::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        chat: chat_conversations::table
            .select(max(chat_conversations::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        chat_message: chat_messages::table
            .select(max(chat_messages::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
        note: notes::table
            .select(max(notes::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0)
            + 1,
    })
}

#[derive(Default)]
struct Batch {
    customers: Vec<CustomerRow>,
    tickets: Vec<TicketRow>,
    ticket_messages: Vec<TicketMessageRow>,
    chats: Vec<ChatRow>,
    chat_messages: Vec<ChatMessageRow>,
    notes: Vec<NoteRow>,
}

fn pick<'a>(rng: &mut fastrand::Rng, list: &[&'a str]) -> &'a str {
    list[rng.usize(..list.len())]
}

fn sentence_pair(rng: &mut fastrand::Rng) -> String {
    format!("{} {}", pick(rng, SENTENCES), pick(rng, SENTENCES))
}

fn slug(text: &str) -> String {
    text.chars()
        .filter_map(|c| match c {
            'a'..='z' | '0'..='9' => Some(c),
            'A'..='Z' => Some(c.to_ascii_lowercase()),
            ' ' | '-' => Some('-'),
            _ => None,
        })
        .collect()
}

fn generate(rng: &mut fastrand::Rng, ids: &mut NextIds, count: usize, batch: &mut Batch) {
    let epoch = NaiveDate::from_ymd_opt(2023, 1, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("a valid date");
    for _ in 0..count {
        let id = ids.customer;
        ids.customer += 1;
        let first = pick(rng, FIRST_NAMES);
        let last = pick(rng, LAST_NAMES);
        let company = pick(rng, COMPANY_NAMES);
        let kind = pick(rng, COMPANY_KINDS);
        let created = epoch + TimeDelta::seconds(rng.i64(0..3 * 365 * 86_400));
        batch.customers.push(CustomerRow {
            id,
            first_name: first.to_owned(),
            last_name: last.to_owned(),
            email: format!(
                "{}.{}.{id}@{}.example",
                slug(first),
                slug(last),
                slug(company)
            ),
            phone: format!("+1 555 {:04} {:04}", rng.u32(0..10_000), rng.u32(0..10_000)),
            organisation: format!("{company} {kind}"),
            job_title: pick(rng, JOB_TITLES).to_owned(),
            created_at: created,
            updated_at: created,
        });
        for _ in 0..rng.usize(0..=10) {
            let ticket_id = ids.ticket;
            ids.ticket += 1;
            let opened = created + TimeDelta::minutes(rng.i64(1..200_000));
            batch.tickets.push(TicketRow {
                id: ticket_id,
                customer_id: id,
                subject: pick(rng, SUBJECTS).to_owned(),
                status: pick(rng, STATUSES),
                trashed_at: (rng.u8(..10) == 0).then(|| opened + TimeDelta::days(30)),
                created_at: opened,
            });
            for m in 0..rng.i64(1..=5) {
                batch.ticket_messages.push(TicketMessageRow {
                    id: ids.ticket_message,
                    ticket_id,
                    body: sentence_pair(rng),
                    created_at: opened + TimeDelta::hours(m * 3),
                });
                ids.ticket_message += 1;
            }
        }
        for _ in 0..rng.usize(1..=2) {
            let chat_id = ids.chat;
            ids.chat += 1;
            let started = created + TimeDelta::minutes(rng.i64(1..200_000));
            batch.chats.push(ChatRow {
                id: chat_id,
                customer_id: id,
                started_at: started,
            });
            for m in 0..4 {
                batch.chat_messages.push(ChatMessageRow {
                    id: ids.chat_message,
                    conversation_id: chat_id,
                    body: pick(rng, SENTENCES).to_owned(),
                    created_at: started + TimeDelta::minutes(m),
                });
                ids.chat_message += 1;
            }
        }
        batch.notes.push(NoteRow {
            id: ids.note,
            customer_id: id,
            body: format!("Prefers email. {}", pick(rng, SENTENCES)),
            created_at: created + TimeDelta::days(1),
        });
        ids.note += 1;
    }
}

// Multi-row INSERTs are not available through the two-backend `DbConn`, so each statement is
// sent on the concrete connection; the SQL is the same on both.
// The benchmark shape, as in the Django project's `seed` command.
const BENCH_FIRST: &[&str] = &[
    "Ada", "Ben", "Cleo", "Dan", "Eva", "Finn", "Gia", "Hugo", "Iris", "Jon", "Kira", "Leo", "Mia",
    "Nils", "Olga", "Paul", "Quin", "Rosa", "Sam", "Tara",
];
const BENCH_LAST: &[&str] = &[
    "Abbott", "Brown", "Chen", "Diaz", "Evans", "Fox", "Garcia", "Hill", "Ito", "Jones", "Khan",
    "Lopez", "Moore", "Novak", "Owens", "Patel", "Quinn", "Reyes", "Smith", "Turner", "Ueda",
    "Vance", "Wong", "Xu", "Young", "Zimmer", "Berg", "Costa", "Dahl", "Ewing", "Ford",
];
const BENCH_COMPANIES: &[&str] = &[
    "Globex",
    "Initech",
    "Umbrella",
    "Hooli",
    "Stark Industries",
    "Wayne Enterprises",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Vandelay",
    "Pied Piper",
    "Dunder Mifflin",
    "Gringotts",
    "Oscorp",
    "Massive Dynamic",
    "Aperture",
    "Black Mesa",
    "Monarch",
    "Nakatomi",
];
const BENCH_STATUSES: &[&str] = &["active", "waiting", "solved", "closed"];
const LOREM: &str = "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod \
    tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud.";

fn generate_bench(ids: &mut NextIds, count: usize, batch: &mut Batch) {
    let epoch = NaiveDate::from_ymd_opt(2020, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date");
    for _ in 0..count {
        let id = ids.customer;
        ids.customer += 1;
        let i = (id - 1) as usize;
        let first = BENCH_FIRST[i % BENCH_FIRST.len()];
        let last = BENCH_LAST[(i / BENCH_FIRST.len()) % BENCH_LAST.len()];
        let created = epoch + TimeDelta::minutes(i as i64);
        batch.customers.push(CustomerRow {
            id,
            first_name: first.to_owned(),
            last_name: format!("{last} {i:06}"),
            email: format!(
                "{}.{}.{i}@example.com",
                first.to_lowercase(),
                last.to_lowercase()
            ),
            phone: format!("+1-555-{:04}", i % 10_000),
            organisation: if i.is_multiple_of(10) {
                "Acme".to_owned()
            } else {
                BENCH_COMPANIES[i % BENCH_COMPANIES.len()].to_owned()
            },
            job_title: String::new(),
            created_at: created,
            updated_at: created,
        });
        for t in 0..5 {
            let ticket_id = ids.ticket;
            ids.ticket += 1;
            batch.tickets.push(TicketRow {
                id: ticket_id,
                customer_id: id,
                subject: format!("Ticket {t} for customer {i}"),
                status: BENCH_STATUSES[(i + t) % 4],
                trashed_at: None,
                created_at: created + TimeDelta::hours(t as i64),
            });
            for m in 0..3 {
                batch.ticket_messages.push(TicketMessageRow {
                    id: ids.ticket_message,
                    ticket_id,
                    body: format!("[{ticket_id}/{m}] {LOREM}"),
                    created_at: created + TimeDelta::hours(t as i64),
                });
                ids.ticket_message += 1;
            }
        }
        let chat_id = ids.chat;
        ids.chat += 1;
        batch.chats.push(ChatRow {
            id: chat_id,
            customer_id: id,
            started_at: created,
        });
        for m in 0..4 {
            batch.chat_messages.push(ChatMessageRow {
                id: ids.chat_message,
                conversation_id: chat_id,
                body: format!("[{id}/{m}] {}", &LOREM[..80]),
                created_at: created,
            });
            ids.chat_message += 1;
        }
        batch.notes.push(NoteRow {
            id: ids.note,
            customer_id: id,
            body: format!("Note for customer {i}. {}", &LOREM[..60]),
            created_at: created,
        });
        ids.note += 1;
    }
}

macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr) => {
        for chunk in $rows.chunks(ROWS_PER_STATEMENT) {
            match $conn {
                // SQLite runs in-process: one cached single-row statement executed many times
                // beats preparing a new multi-row statement per chunk.
                DbConn::Sqlite(c) => {
                    for row in chunk {
                        diesel::insert_into($table).values(row).execute(c)?;
                    }
                }
                // PostgreSQL is across a socket: multi-row statements save the round trips.
                DbConn::Pg(c) => {
                    diesel::insert_into($table).values(chunk).execute(c)?;
                }
            };
        }
    };
}

fn write(conn: &mut DbConn, batch: &Batch) -> QueryResult<()> {
    write_transaction(conn, |conn| {
        insert_chunks!(conn, customers::table, batch.customers);
        insert_chunks!(conn, tickets::table, batch.tickets);
        insert_chunks!(conn, ticket_messages::table, batch.ticket_messages);
        insert_chunks!(conn, chat_conversations::table, batch.chats);
        insert_chunks!(conn, chat_messages::table, batch.chat_messages);
        insert_chunks!(conn, notes::table, batch.notes);
        Ok(())
    })
}

/// PostgreSQL's sequences do not see explicit ids: move them past what was written.
fn advance_sequences(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Pg(pg) = conn {
        for table in [
            "customers",
            "tickets",
            "ticket_messages",
            "chat_conversations",
            "chat_messages",
            "notes",
        ] {
            diesel::sql_query(format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(pg)?;
        }
    }
    Ok(())
}

/// Adds `count` customers with their tickets, chats and notes, after any that exist.
pub fn seed(
    conn: &mut DbConn,
    count: u64,
    rng_seed: u64,
    show_progress: bool,
) -> anyhow::Result<SeedReport> {
    seed_shaped(conn, count, rng_seed, Shape::Realistic, show_progress)
}

/// Adds `count` customers of the given shape, after any that exist.
pub fn seed_shaped(
    conn: &mut DbConn,
    count: u64,
    rng_seed: u64,
    shape: Shape,
    show_progress: bool,
) -> anyhow::Result<SeedReport> {
    let started = Instant::now();
    let mut rng = fastrand::Rng::with_seed(rng_seed);
    let mut ids = next_ids(conn)?;
    let progress = if show_progress {
        let bar = ProgressBar::new(count);
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} seeding [{bar:40}] {human_pos}/{human_len} customers, {per_sec}, {eta} left",
            )?
            .progress_chars("=> "),
        );
        bar
    } else {
        ProgressBar::hidden()
    };
    if let DbConn::Sqlite(sqlite) = conn {
        // A bulk load: keep index pages in memory and let the OS flush. An application crash
        // still cannot corrupt the file (WAL); a power cut may lose the last batches.
        diesel::connection::SimpleConnection::batch_execute(
            sqlite,
            "PRAGMA cache_size = -262144; PRAGMA synchronous = OFF; PRAGMA wal_autocheckpoint = 20000;",
        )?;
    }
    let mut report = SeedReport::default();
    let mut remaining = count as usize;
    while remaining > 0 {
        let size = remaining.min(CUSTOMERS_PER_BATCH);
        let mut batch = Batch::default();
        match shape {
            Shape::Realistic => generate(&mut rng, &mut ids, size, &mut batch),
            Shape::Bench => generate_bench(&mut ids, size, &mut batch),
        }
        write(conn, &batch)?;
        report.customers += batch.customers.len() as u64;
        report.tickets += batch.tickets.len() as u64;
        report.ticket_messages += batch.ticket_messages.len() as u64;
        report.chats += batch.chats.len() as u64;
        report.chat_messages += batch.chat_messages.len() as u64;
        report.notes += batch.notes.len() as u64;
        progress.inc(size as u64);
        remaining -= size;
    }
    advance_sequences(conn)?;
    progress.finish_and_clear();
    report.elapsed = started.elapsed();
    Ok(report)
}
