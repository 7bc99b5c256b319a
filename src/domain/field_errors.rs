//! A form's errors: one message per wrong field, listed in the form's own order. Each form says
//! its order once (`FieldOrder`); the customer form and the retention rule form share the rest.

use std::marker::PhantomData;

/// Where a field comes in its form (`None`: not one of its fields, listed last).
pub trait FieldOrder {
    fn rank(field: &str) -> Option<usize>;
}

/// One message per field that is wrong, in the form's order.
#[derive(Debug)]
pub struct FieldErrors<F: FieldOrder>(Vec<(&'static str, String)>, PhantomData<F>);

impl<F: FieldOrder> Default for FieldErrors<F> {
    fn default() -> Self {
        Self(Vec::new(), PhantomData)
    }
}

impl<F: FieldOrder> Clone for FieldErrors<F> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<F: FieldOrder> PartialEq for FieldErrors<F> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<F: FieldOrder> Eq for FieldErrors<F> {}

impl<F: FieldOrder> FieldErrors<F> {
    /// The first message of a field counts; messages stay in the form's order.
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            let at = self
                .0
                .iter()
                .position(|(other, _)| F::rank(other) > F::rank(field))
                .unwrap_or(self.0.len());
            self.0.insert(at, (field, message.into()));
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(f, m)| (*f, m.as_str()))
    }
}
