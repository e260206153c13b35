use proptest::prelude::*;

use super::*;

fn title(raw: &str) -> Title {
    Title::parse(raw).expect("valid title")
}

/// One row of the slug table: a title and the slug it must get.
fn check(title_text: &str, expected: &str) {
    assert_eq!(
        Slug::from_title(&title(title_text)).as_str(),
        expected,
        "{title_text:?}"
    );
}

#[test]
fn a_slug_is_the_title_in_lower_case_ascii_words_joined_by_hyphens() {
    check("How to train your Dragon!", "how-to-train-your-dragon");
    check("Déjà vu", "deja-vu");
    check("Ελληνικά", "ellenika");
    check("  spaced   out  ", "spaced-out");
    check("\u{e000}\u{e001}", Slug::FALLBACK);
}

#[test]
fn composed_and_decomposed_forms_give_the_same_slug() {
    let composed = title("Caf\u{e9} cr\u{e8}me");
    let decomposed = title("Cafe\u{301} cre\u{300}me");

    assert_eq!(Slug::from_title(&composed), Slug::from_title(&decomposed));
}

#[test]
fn a_long_title_is_cut_at_a_word_boundary() {
    let long = "word ".repeat(40);

    let slug = Slug::from_title(&title(&long));

    assert!(slug.as_str().len() <= Slug::MAX_CHARS);
    assert!(slug.as_str().ends_with("word"));
}

#[test]
fn slugs_in_urls_must_be_well_formed() {
    assert!(Slug::parse("how-to-train-your-dragon").is_ok());
    for bad in [
        "", "Upper", "-lead", "trail-", "dou--ble", "sp ace", "é", "a/b",
    ] {
        assert_eq!(Slug::parse(bad), Err(InvalidValue::Malformed), "{bad:?}");
    }
}

#[test]
fn tags_are_trimmed_deduplicated_sorted_and_limited_in_number() {
    let raw: Vec<String> = [" rust ", "web", "rust", "testing"]
        .into_iter()
        .map(String::from)
        .collect();

    let tags = Tag::parse_list(&raw).expect("valid tags");

    let names: Vec<&str> = tags.iter().map(Tag::as_str).collect();
    assert_eq!(names, ["rust", "testing", "web"]);
    let eleven: Vec<String> = (0..11).map(|n| format!("tag{n}")).collect();
    assert!(Tag::parse_list(&eleven).is_err());
}

#[test]
fn blank_long_or_control_character_tags_are_refused() {
    assert_eq!(Tag::parse("  "), Err(InvalidValue::Blank));
    assert!(Tag::parse(&"t".repeat(Tag::MAX_CHARS + 1)).is_err());
    assert_eq!(Tag::parse("a\tb"), Err(InvalidValue::Malformed));
}

#[test]
fn article_texts_have_length_caps_and_refuse_nul() {
    assert!(Title::parse(&"t".repeat(Title::MAX_CHARS)).is_ok());
    assert!(Title::parse(&"t".repeat(Title::MAX_CHARS + 1)).is_err());
    assert_eq!(ArticleBody::parse("a\0b"), Err(InvalidValue::ContainsNul));
    assert_eq!(CommentBody::parse(" "), Err(InvalidValue::Blank));
}

#[test]
fn paging_defaults_to_twenty_from_the_start() {
    assert_eq!(Page::parse(None, None), Ok(Page::first(20)));
    assert_eq!(Page::parse(Some(""), Some("")), Ok(Page::first(20)));
}

#[test]
fn a_large_limit_is_clamped_to_the_maximum() {
    let page = Page::parse(Some("1000"), Some("40")).expect("valid");

    assert_eq!((page.limit(), page.offset()), (Page::MAX_LIMIT, 40));
    let largest = Page::parse(Some("2147483647"), None).expect("valid");
    assert_eq!(largest.limit(), Page::MAX_LIMIT);
}

#[test]
fn a_limit_beyond_a_32_bit_integer_is_refused_as_the_api_document_declares() {
    for raw in ["2147483648", "99999999999999999999999"] {
        let refused = Page::parse(Some(raw), None);

        assert_eq!(
            refused,
            Err(ValidationErrors::single("limit", "is too large")),
            "{raw}"
        );
    }
}

#[test]
fn bad_paging_values_are_refused_by_name() {
    for (limit, offset, field) in [
        (Some("0"), None, "limit"),
        (Some("-1"), None, "limit"),
        (Some("ten"), None, "limit"),
        (Some("2.5"), None, "limit"),
        (None, Some("-5"), "offset"),
        (None, Some("x"), "offset"),
        (None, Some("99999999999999999999999"), "offset"),
    ] {
        let errors = Page::parse(limit, offset).expect_err("refused");
        let fields: Vec<&str> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields, [field], "limit {limit:?} offset {offset:?}");
    }
}

proptest! {
    #[test]
    fn slugs_are_url_safe_never_empty_and_parse_back(raw in "\\PC{1,300}") {
        prop_assume!(Title::parse(&raw).is_ok());
        let slug = Slug::from_title(&title(&raw));

        prop_assert!(!slug.as_str().is_empty());
        prop_assert!(slug.as_str().len() <= Slug::MAX_CHARS);
        prop_assert!(slug.as_str().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        prop_assert_eq!(Slug::parse(slug.as_str()), Ok(slug.clone()));
    }

    #[test]
    fn slugging_is_idempotent(raw in "\\PC{1,300}") {
        prop_assume!(Title::parse(&raw).is_ok());
        let once = Slug::from_title(&title(&raw));

        let twice = Slug::from_title(&title(once.as_str()));

        prop_assert_eq!(once, twice);
    }

    #[test]
    fn a_page_is_never_empty_never_over_the_maximum_and_never_negative(
        limit in proptest::option::of("-?[0-9]{0,25}|\\PC{0,5}"),
        offset in proptest::option::of("-?[0-9]{0,25}|\\PC{0,5}"),
    ) {
        if let Ok(page) = Page::parse(limit.as_deref(), offset.as_deref()) {
            prop_assert!((1..=Page::MAX_LIMIT).contains(&page.limit()));
            prop_assert!(page.offset() <= Page::MAX_OFFSET);
        }
    }

    #[test]
    fn every_whole_limit_of_at_least_one_is_accepted(limit in 1..=Page::MAX_REQUESTED_LIMIT, offset in 0..=Page::MAX_OFFSET) {
        let page = Page::parse(Some(&limit.to_string()), Some(&offset.to_string()));

        prop_assert_eq!(
            page.map(|page| (page.limit(), page.offset())),
            Ok((u32::try_from(limit.min(100)).unwrap_or(100), offset))
        );
    }
}

#[test]
fn ten_tags_are_allowed_and_the_eleventh_is_not() {
    let tags = |count: usize| -> Vec<String> { (0..count).map(|n| format!("tag{n}")).collect() };

    assert_eq!(Tag::parse_list(&tags(10)).map(|tags| tags.len()), Ok(10));
    assert!(Tag::parse_list(&tags(11)).is_err());
}

#[test]
fn a_slug_of_exactly_the_maximum_length_is_kept_whole_and_a_longer_one_is_cut() {
    // 24 words of 4 letters and 23 hyphens: 119 characters; one more letter makes 120.
    let at_most = format!("{}x", "word ".repeat(24).trim_end());
    let over = format!("{at_most} more");

    let kept = Slug::from_title(&title(&at_most));
    let cut = Slug::from_title(&title(&over));

    assert_eq!(kept.as_str().len(), Slug::MAX_CHARS);
    assert_eq!(cut.as_str(), kept.as_str());
}

#[test]
fn skipping_keeps_the_size_and_clamps_the_offset_to_the_maximum() {
    let page = Page::first(5);

    assert_eq!(
        (page.skipping(7).limit(), page.skipping(7).offset()),
        (5, 7)
    );
    assert_eq!(page.skipping(Page::MAX_OFFSET).offset(), Page::MAX_OFFSET);
    assert_eq!(page.skipping(u64::MAX).offset(), Page::MAX_OFFSET);
}

#[test]
fn a_long_title_is_cut_at_the_last_word_that_fits_not_in_the_middle_of_one() {
    // Words of six letters: the hyphens fall at 6, 13, ... 118, so the last whole word ends at
    // 118, two characters short of the maximum.
    let slug = Slug::from_title(&title(&"abcdef ".repeat(25)));

    assert_eq!(slug.as_str(), format!("{}abcdef", "abcdef-".repeat(16)));
    assert_eq!(
        slug.to_string(),
        slug.as_str(),
        "Display writes the slug itself"
    );
}

#[test]
fn only_ascii_digits_are_a_whole_number() {
    assert_eq!(whole_number("0"), Some(0));
    assert_eq!(whole_number("20"), Some(20));
    assert_eq!(whole_number("99999999999999999999999"), Some(u64::MAX));
    for refused in ["", "-1", "+1", "1.5", " 1", "1e3", "\u{663}"] {
        assert_eq!(whole_number(refused), None, "{refused:?}");
    }
}
