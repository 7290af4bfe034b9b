//! Property: for arbitrary states and configs, every generated name (owner
//! names, SRV targets, enumeration names) is absolute (mesos-dns appends
//! the domain and its trailing dot to every name, whatever the name
//! holds), and generation is deterministic. Which names can go on the wire
//! is the server's business (the `names_served` property test).

use mesos_dns_tests::strategy::{config, state};
use mesos_records::generate;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn every_generated_name_is_absolute((state, masters) in state(), cfg in config()) {
        let g = generate(&state, &cfg, &masters);
        for name in g.records.names() {
            prop_assert!(name.ends_with('.'), "relative name {name:?}");
        }
        for r in g.records.enumeration().frameworks().flat_map(|f| f.tasks()).flat_map(|t| t.records()) {
            prop_assert!(r.name.ends_with('.'), "relative enumerated name {:?}", r.name);
        }
        let again = generate(&state, &cfg, &masters);
        prop_assert_eq!(&g.records, &again.records);
        prop_assert_eq!(g.skips, again.skips);
    }
}
