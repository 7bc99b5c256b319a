//! Table definitions shared by both backends (see migrations/sqlite and migrations/postgres).

diesel::table! {
    customers (id) {
        id -> BigInt,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        phone -> Text,
        organisation -> Text,
        job_title -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// Kept by triggers (migrations `2026-12-01-000001_last_active`); never written by the app.
        last_active_at -> Timestamp,
        /// Kept by triggers (migrations `2026-12-03-000001_kept_related_counts`), as are the
        /// three below; never written by the app.
        ticket_count -> BigInt,
        trashed_ticket_count -> BigInt,
        chat_count -> BigInt,
        note_count -> BigInt,
    }
}

diesel::table! {
    tickets (id) {
        id -> BigInt,
        customer_id -> BigInt,
        subject -> Text,
        status -> Text,
        trashed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    ticket_messages (id) {
        id -> BigInt,
        ticket_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    chat_conversations (id) {
        id -> BigInt,
        customer_id -> BigInt,
        started_at -> Timestamp,
    }
}

diesel::table! {
    chat_messages (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    notes (id) {
        id -> BigInt,
        customer_id -> BigInt,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    deletion_records (id) {
        id -> BigInt,
        created_at -> Timestamp,
        kind -> Text,
        customers -> BigInt,
        tickets -> BigInt,
        chats -> BigInt,
        notes -> BigInt,
        customer_ids -> Text,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        job_id -> Nullable<BigInt>,
        confirmed_customers -> BigInt,
        stopped -> Bool,
        kept_open_tickets -> BigInt,
    }
}

diesel::table! {
    agents (id) {
        id -> BigInt,
        name -> Text,
        email -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sessions (session_key) {
        session_key -> Text,
        state -> Text,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    login_throttle (throttle_key) {
        throttle_key -> Text,
        window_start -> Timestamp,
        attempts -> BigInt,
    }
}

diesel::table! {
    deletion_jobs (id) {
        id -> BigInt,
        created_at -> Timestamp,
        confirmation_token -> Text,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        status -> Text,
        total -> BigInt,
        cursor -> BigInt,
        processed -> BigInt,
        customers -> BigInt,
        tickets -> BigInt,
        chats -> BigInt,
        notes -> BigInt,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
        finished_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    deletion_job_backups (job_id) {
        job_id -> BigInt,
        file -> Text,
        bytes -> BigInt,
        written_at -> Timestamp,
    }
}

diesel::table! {
    deletion_job_items (job_id, customer_id) {
        job_id -> BigInt,
        customer_id -> BigInt,
        tickets -> BigInt,
        tickets_in_trash -> BigInt,
        chats -> BigInt,
        notes -> BigInt,
    }
}

diesel::table! {
    deletion_job_confirmations (job_id) {
        job_id -> BigInt,
        digest -> Text,
        tickets_added -> BigInt,
        chats_added -> BigInt,
        notes_added -> BigInt,
        kept_open_tickets -> BigInt,
    }
}

diesel::table! {
    deletion_job_stops (job_id) {
        job_id -> BigInt,
        requested_at -> Timestamp,
        requested_by -> Text,
    }
}

diesel::table! {
    retention_rules (id) {
        id -> BigInt,
        name -> Text,
        inactive_months -> Integer,
        organisation -> Nullable<Text>,
        organisation_not -> Nullable<Text>,
        created_before -> Nullable<Timestamp>,
        keep_open_tickets -> Bool,
        max_customers -> BigInt,
        max_percent -> Integer,
        state -> Text,
        paused_reason -> Nullable<Text>,
        version -> BigInt,
        activated_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    retention_runs (rule_id) {
        rule_id -> BigInt,
        last_run_at -> Nullable<Timestamp>,
        last_job_id -> Nullable<BigInt>,
        lease_owner -> Nullable<Text>,
        lease_until -> Nullable<Timestamp>,
    }
}

diesel::joinable!(tickets -> customers (customer_id));
diesel::joinable!(retention_runs -> retention_rules (rule_id));
diesel::joinable!(deletion_job_items -> deletion_jobs (job_id));
diesel::joinable!(deletion_job_confirmations -> deletion_jobs (job_id));
diesel::joinable!(deletion_job_stops -> deletion_jobs (job_id));
diesel::joinable!(ticket_messages -> tickets (ticket_id));
diesel::joinable!(chat_conversations -> customers (customer_id));
diesel::joinable!(chat_messages -> chat_conversations (conversation_id));
diesel::joinable!(notes -> customers (customer_id));
diesel::joinable!(deletion_records -> agents (actor_id));
diesel::joinable!(deletion_records -> deletion_job_backups (job_id));
diesel::joinable!(deletion_job_backups -> deletion_jobs (job_id));

diesel::allow_tables_to_appear_in_same_query!(
    customers,
    tickets,
    ticket_messages,
    chat_conversations,
    chat_messages,
    notes,
    deletion_records,
    agents,
    sessions,
    deletion_job_backups,
    login_throttle,
    deletion_jobs,
    deletion_job_items,
    deletion_job_confirmations,
    deletion_job_stops,
    retention_rules,
    retention_runs,
);
