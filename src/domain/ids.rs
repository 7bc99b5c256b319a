//! Ids of different tables as different types, where they meet (a job deletes customers, on an
//! administrator's behalf): passing one for another does not compile. Plain numbers in the
//! database and in addresses.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub i64);

        impl From<i64> for $name {
            fn from(id: i64) -> Self {
                Self(id)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A customer (`customers.id`).
    CustomerId
);
id_type!(
    /// A bulk deletion job (`deletion_jobs.id`).
    JobId
);
id_type!(
    /// A desk account, administrator or agent (`agents.id`).
    AgentId
);
