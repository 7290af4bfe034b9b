//! Lenient JSON reading for the Mesos state.
//!
//! Go's `encoding/json` (what mesos-dns uses) matches keys
//! case-insensitively, lets the last duplicate key win, treats `null` as
//! "not present", and fails the whole document on a type mismatch. We keep
//! the first three and replace the last: a value of the wrong type is kept
//! as [`Json::Wrong`], so the entity holding it can be skipped with a reason
//! while the rest of the state is still read. Only JSON syntax errors fail
//! the whole document.
//!
//! Strings read as [`Text`] borrow from the body when they have no escapes,
//! so the many strings only looked at while reading (status states, labels,
//! IPs, port ranges) cost no allocation.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

/// One JSON value read leniently.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Json<T> {
    /// Absent or `null`.
    #[default]
    Absent,
    /// Present with the wrong JSON type (which one is kept for the log).
    Wrong(&'static str),
    /// Present and of the right type.
    Value(T),
}

impl<T> Json<T> {
    /// The value, if present with the right type.
    pub(crate) fn value(self) -> Option<T> {
        match self {
            Json::Value(v) => Some(v),
            _ => None,
        }
    }

    /// An error naming `key` if the value has the wrong type.
    pub(crate) fn check_type(&self, key: &str) -> Result<(), String> {
        match self {
            Json::Wrong(found) => Err(format!("`{key}` is {found}")),
            _ => Ok(()),
        }
    }
}

impl<T: Check> Json<T> {
    /// Like [`Json::check_type`], then checks the value's own fields.
    pub(crate) fn check(&self, key: &str) -> Result<(), String> {
        match self {
            Json::Wrong(found) => Err(format!("`{key}` is {found}")),
            Json::Value(v) => v.check().map_err(|e| format!("{key}.{e}")),
            Json::Absent => Ok(()),
        }
    }
}

/// Deep type check: the first field of the wrong type, as a path.
pub(crate) trait Check {
    fn check(&self) -> Result<(), String>;
}

impl Check for String {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A JSON string, borrowed from the body when it has no escapes.
pub(crate) type Text<'de> = Cow<'de, str>;

impl Check for Text<'_> {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Check for f64 {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

impl Check for i64 {
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

impl<T: Check> Check for Vec<Json<T>> {
    fn check(&self) -> Result<(), String> {
        // As `Json::check` with the index as key, formatted only on error.
        for (i, v) in self.iter().enumerate() {
            match v {
                Json::Wrong(found) => return Err(format!("`{i}` is {found}")),
                Json::Value(x) => x.check().map_err(|e| format!("{i}.{e}"))?,
                Json::Absent => {}
            }
        }
        Ok(())
    }
}

/// What a JSON value can become, reading a body that lives for `'de`. The
/// defaults reject every JSON type (after consuming the value, so the
/// reader stays in sync).
pub(crate) trait Shape<'de>: Sized {
    fn from_null() -> Json<Self> {
        Json::Absent
    }
    fn from_str(_: &str) -> Option<Self> {
        None
    }
    /// A string without escapes, borrowed from the body.
    fn from_borrowed_str(v: &'de str) -> Option<Self> {
        Self::from_str(v)
    }
    fn from_f64(_: f64) -> Option<Self> {
        None
    }
    fn from_i64(_: i64) -> Option<Self> {
        None
    }
    fn from_u64(_: u64) -> Option<Self> {
        None
    }
    fn from_bool(_: bool) -> Option<Self> {
        None
    }
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn from_map<A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

impl Shape<'_> for String {
    fn from_str(v: &str) -> Option<Self> {
        Some(v.to_owned())
    }
}

impl<'de> Shape<'de> for Text<'de> {
    fn from_str(v: &str) -> Option<Self> {
        Some(Cow::Owned(v.to_owned()))
    }
    fn from_borrowed_str(v: &'de str) -> Option<Self> {
        Some(Cow::Borrowed(v))
    }
}

impl Shape<'_> for bool {
    fn from_bool(v: bool) -> Option<Self> {
        Some(v)
    }
}

impl Shape<'_> for f64 {
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_i64(v: i64) -> Option<Self> {
        Some(v as f64)
    }
    #[allow(clippy::cast_precision_loss)]
    fn from_u64(v: u64) -> Option<Self> {
        Some(v as f64)
    }
}

/// Go `int`: integers only (`80.0` is an error in Go too).
impl Shape<'_> for i64 {
    fn from_i64(v: i64) -> Option<Self> {
        Some(v)
    }
    fn from_u64(v: u64) -> Option<Self> {
        i64::try_from(v).ok()
    }
}

impl<'de, T: Shape<'de>> Shape<'de> for Vec<Json<T>> {
    fn from_seq<A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element::<Json<T>>()? {
            out.push(v);
        }
        Ok(Some(out))
    }
}

impl<'de, T: Shape<'de>> Deserialize<'de> for Json<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor(PhantomData))
    }
}

struct JsonVisitor<T>(PhantomData<fn() -> T>);

fn or_wrong<T>(v: Option<T>, found: &'static str) -> Json<T> {
    v.map_or(Json::Wrong(found), Json::Value)
}

impl<'de, T: Shape<'de>> Visitor<'de> for JsonVisitor<T> {
    type Value = Json<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json<T>, E> {
        Ok(T::from_null())
    }
    fn visit_none<E: de::Error>(self) -> Result<Json<T>, E> {
        Ok(T::from_null())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Json<T>, E> {
        Ok(or_wrong(T::from_bool(v), "a boolean"))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Json<T>, E> {
        Ok(or_wrong(T::from_str(v), "a string"))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Json<T>, E> {
        Ok(or_wrong(T::from_borrowed_str(v), "a string"))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Json<T>, E> {
        Ok(or_wrong(T::from_i64(v), "a number"))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Json<T>, E> {
        Ok(or_wrong(T::from_u64(v), "a number"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json<T>, E> {
        Ok(or_wrong(T::from_f64(v), "a non-integer number"))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Json<T>, A::Error> {
        Ok(or_wrong(T::from_seq(seq)?, "an array"))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Json<T>, A::Error> {
        Ok(or_wrong(T::from_map(map)?, "an object"))
    }
}

/// An object key, borrowed from the input when it has no escapes.
pub(crate) struct Key<'de>(Cow<'de, str>);

impl Key<'_> {
    /// Go's field matching ([`crate::fold`]).
    pub(crate) fn is(&self, name: &str) -> bool {
        crate::fold::fold_eq(&self.0, name)
    }
}

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E: de::Error>(
                self,
                v: &'de str,
            ) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// Declares a JSON object read leniently: a struct of `Json` fields, its
/// [`Shape`] (unknown keys skipped, last duplicate wins) and its [`Check`]
/// over the fields listed under `checked`. The struct has a lifetime `'de`
/// (the body's), which field types may use.
macro_rules! json_object {
    (
        $(#[$m:meta])*
        $name:ident {
            checked { $($ck:literal => $cf:ident : $ct:ty),* $(,)? }
            unchecked { $($uk:literal => $uf:ident : $ut:ty),* $(,)? }
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, Default, PartialEq)]
        pub(crate) struct $name<'de> {
            $(pub(crate) $cf: $crate::lenient::Json<$ct>,)*
            $(pub(crate) $uf: $crate::lenient::Json<$ut>,)*
            _body: std::marker::PhantomData<&'de str>,
        }

        impl<'de> $crate::lenient::Shape<'de> for $name<'de> {
            fn from_map<A: serde::de::MapAccess<'de>>(
                mut map: A,
            ) -> Result<Option<Self>, A::Error> {
                let mut out = $name::default();
                while let Some(key) = map.next_key::<$crate::lenient::Key<'de>>()? {
                    $(if key.is($ck) { out.$cf = map.next_value()?; continue; })*
                    $(if key.is($uk) { out.$uf = map.next_value()?; continue; })*
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
                Ok(Some(out))
            }
        }

        impl $crate::lenient::Check for $name<'_> {
            fn check(&self) -> Result<(), String> {
                $(self.$cf.check($ck)?;)*
                Ok(())
            }
        }
    };
}

pub(crate) use json_object;

#[cfg(test)]
mod tests {
    use super::*;

    json_object!(Thing {
        checked { "name" => name: String, "n" => n: i64, "ts" => ts: f64 }
        unchecked { "list" => list: Vec<Json<Thing<'de>>>, "text" => text: Text<'de> }
    });

    fn thing(s: &str) -> Json<Thing<'_>> {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn reads_fields_case_insensitively_last_wins() {
        let t = thing(r#"{"NAME":"a","name":"b","N":3,"ts":1,"x":{"y":[1,2]}}"#)
            .value()
            .unwrap();
        assert_eq!(t.name, Json::Value("b".to_owned()));
        assert_eq!(t.n, Json::Value(3));
        assert_eq!(t.ts, Json::Value(1.0));
        assert!(t.check().is_ok());
    }

    #[test]
    fn text_borrows_unless_escaped() {
        let t = thing(r#"{"text":"plain"}"#).value().unwrap();
        assert!(matches!(t.text, Json::Value(Cow::Borrowed("plain"))));
        let t = thing(r#"{"text":"a\u0041"}"#).value().unwrap();
        assert!(matches!(t.text, Json::Value(Cow::Owned(ref s)) if s == "aA"));
    }

    #[test]
    fn wrong_types_are_kept_not_fatal() {
        let t = thing(r#"{"name":5,"n":1.5,"list":[{"name":[1]},7,null]}"#)
            .value()
            .unwrap();
        assert_eq!(t.name, Json::Wrong("a number"));
        assert_eq!(t.n, Json::Wrong("a non-integer number"));
        assert_eq!(t.check(), Err("`name` is a number".to_owned()));
        let list = t.list.value().unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[1], Json::Wrong("a number"));
        assert_eq!(list[2], Json::Absent);
        assert_eq!(list[0].check("0"), Err("0.`name` is an array".to_owned()));
    }

    #[test]
    fn null_is_absent_and_syntax_errors_fail() {
        assert_eq!(thing("null"), Json::Absent);
        assert_eq!(thing("\"x\""), Json::Wrong("a string"));
        assert!(serde_json::from_str::<Json<Thing<'_>>>(r#"{"name":"#).is_err());
    }
}
