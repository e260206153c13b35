use super::*;

fn hasher() -> Argon2Hasher {
    Argon2Hasher::new(HashingParams::INSECURE_FOR_TESTS, 2).expect("valid parameters")
}

/// A hasher whose hashes need more memory (64 KiB) and time than [`hasher`]'s.
fn dearer() -> Argon2Hasher {
    Argon2Hasher::new(
        HashingParams {
            memory_kib: 64,
            iterations: 2,
            parallelism: 1,
        },
        1,
    )
    .expect("valid parameters")
}

fn password(raw: &str) -> Password {
    Password::parse(raw).expect("valid password")
}

#[tokio::test]
async fn a_hash_is_an_argon2id_phc_string_that_verifies_only_its_password() {
    let hasher = hasher();

    let hash = hasher
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    assert!(
        hash.as_str().starts_with("$argon2id$v=19$"),
        "{}",
        hash.as_str()
    );
    assert!(!hash.as_str().contains("correct horse"));
    assert_eq!(
        hasher.verify(&password("correct horse"), &hash).await,
        Ok(true)
    );
    assert_eq!(
        hasher.verify(&password("correct horsE"), &hash).await,
        Ok(false)
    );
}

#[tokio::test]
async fn hashing_the_same_password_twice_uses_fresh_salt() {
    let hasher = hasher();

    let first = hasher
        .hash(&password("correct horse"))
        .await
        .expect("hashes");
    let second = hasher
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    assert_ne!(first, second);
}

#[tokio::test]
async fn a_hash_made_with_other_parameters_still_verifies() {
    let cheap = hasher();
    let dearer = dearer();

    let hash = cheap
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    assert_eq!(
        dearer.verify(&password("correct horse"), &hash).await,
        Ok(true)
    );
}

#[tokio::test]
async fn a_corrupt_stored_hash_is_an_error_not_a_wrong_password() {
    let corrupt = PasswordHash::from_phc("$argon2id$v=19$garbage".to_owned());

    let outcome = hasher().verify(&password("correct horse"), &corrupt).await;

    assert!(outcome.is_err());
}

#[test]
fn the_production_default_is_owasps_minimum_and_the_test_parameters_are_below_it() {
    assert_eq!(HashingParams::default(), HashingParams::OWASP_MINIMUM);
    assert_eq!(
        (
            HashingParams::OWASP_MINIMUM.memory_kib,
            HashingParams::OWASP_MINIMUM.iterations
        ),
        (19_456, 2)
    );
    assert!(HashingParams::OWASP_MINIMUM.meets_owasp_minimum());
    assert!(!HashingParams::INSECURE_FOR_TESTS.meets_owasp_minimum());
}

#[test]
fn impossible_parameters_are_refused() {
    let params = HashingParams {
        memory_kib: 1,
        iterations: 1,
        parallelism: 1,
    };

    assert!(Argon2Hasher::new(params, 1).is_err());
}

#[tokio::test]
async fn hashes_reuse_working_memory_so_it_is_bounded_by_the_concurrency_not_the_load() {
    let hasher = hasher();
    let hash = hasher
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    let mut work = tokio::task::JoinSet::new();
    for n in 0..48 {
        let hasher = hasher.clone();
        let hash = hash.clone();
        work.spawn(async move {
            if n % 2 == 0 {
                hasher.hash(&password("correct horse")).await.map(drop)
            } else {
                hasher
                    .verify(&password("correct horse"), &hash)
                    .await
                    .map(drop)
            }
        });
    }
    let outcomes = work.join_all().await;

    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert!(
        hasher.memory_sets_made() <= 2,
        "a hasher with 2 permits made {} sets of working memory",
        hasher.memory_sets_made()
    );
}

#[tokio::test]
async fn a_hash_that_needs_more_memory_than_the_pool_holds_still_verifies() {
    let dearer = dearer();
    let hash = dearer
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    let cheap = hasher();
    let sets_before = cheap.memory_sets_made();
    let first = cheap.verify(&password("correct horse"), &hash).await;
    let second = cheap.verify(&password("correct horse"), &hash).await;

    assert_eq!((first, second), (Ok(true), Ok(true)));
    // One larger set replaces the small one, and is then reused.
    assert_eq!(
        (sets_before, cheap.memory_sets_made()),
        (1, 2),
        "the start-up hash makes the first set"
    );
}

#[tokio::test]
async fn hashes_are_interchangeable_with_the_argon2_crates_own_phc_strings() {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
    let params = Params::new(Params::MIN_M_COST, 1, 1, None).expect("valid parameters");
    let reference = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
    let theirs = reference
        .hash_password(b"correct horse")
        .expect("hashes")
        .to_string();

    let ours = hasher()
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    assert_eq!(
        hasher()
            .verify(&password("correct horse"), &PasswordHash::from_phc(theirs))
            .await,
        Ok(true)
    );
    assert!(
        reference
            .verify_password(b"correct horse", ours.as_str())
            .is_ok()
    );
    assert!(
        reference
            .verify_password(b"correct horsE", ours.as_str())
            .is_err()
    );
}

#[test]
fn each_parameter_below_owasps_minimum_fails_the_minimum_on_its_own() {
    let minimum = HashingParams::OWASP_MINIMUM;
    let cheaper = [
        HashingParams {
            memory_kib: minimum.memory_kib - 1,
            ..minimum
        },
        HashingParams {
            iterations: minimum.iterations - 1,
            ..minimum
        },
        HashingParams {
            parallelism: minimum.parallelism - 1,
            ..minimum
        },
    ];

    for params in cheaper {
        assert!(!params.meets_owasp_minimum(), "{params:?}");
    }
}

/// An unknown e-mail must cost what a wrong password costs, or the time of the answer tells
/// which e-mails have accounts: both run exactly one argon2 computation.
#[tokio::test]
async fn checking_against_the_dummy_runs_one_computation_like_a_wrong_password() {
    let hasher = hasher();
    let hash = hasher
        .hash(&password("correct horse"))
        .await
        .expect("hashes");

    let before = hasher.computations();
    hasher.verify_against_dummy(&password("wrong horse")).await;
    let after_dummy = hasher.computations();
    let verified = hasher.verify(&password("wrong horse"), &hash).await;
    let after_wrong_password = hasher.computations();

    assert_eq!(verified, Ok(false));
    assert_eq!(
        (after_dummy - before, after_wrong_password - after_dummy),
        (1, 1)
    );
}
