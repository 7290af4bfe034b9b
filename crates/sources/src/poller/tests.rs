use super::*;

#[test]
fn backoff_doubles_up_to_the_refresh_period() {
    let refresh = Duration::from_secs(60);
    let secs: Vec<u64> = (1..=8).map(|n| backoff(n, refresh).as_secs()).collect();
    assert_eq!(secs, [1, 2, 4, 8, 16, 32, 60, 60]);
    assert_eq!(backoff(u64::MAX, refresh), refresh);
    assert_eq!(
        backoff(1, Duration::from_millis(200)),
        Duration::from_millis(200)
    );
}
