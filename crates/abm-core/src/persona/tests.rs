//! Titles as they appear in CRM exports, one line each: the function, seniority and buying
//! role we expect. Adding a case is one line.

use super::*;
use proptest::prelude::*;
use std::sync::LazyLock;

static DEFAULT: LazyLock<TitleDictionary> = LazyLock::new(TitleDictionary::default);

/// `function` is a key of [`Function`] or `"-"` for none; `role` a key of [`BuyingRole`].
#[track_caller]
fn check(title: &str, function: &str, seniority: &str, role: Option<&str>) {
    check_with(&DEFAULT, title, function, seniority, role);
}

#[track_caller]
fn check_with(
    dictionary: &TitleDictionary,
    title: &str,
    function: &str,
    seniority: &str,
    role: Option<&str>,
) {
    let persona = dictionary.classify(title);
    let expected = Persona {
        function: (function != "-").then(|| Function::from_key(function).expect("a function key")),
        seniority: Seniority::from_key(seniority).expect("a seniority key"),
        role: role.map(|role| BuyingRole::from_key(role).expect("a buying role key")),
        relevant: true,
    };
    assert_eq!(persona, expected, "{title:?}");
}

/// An occupation that never buys: no role, not relevant.
#[track_caller]
fn irrelevant(title: &str) {
    let persona = DEFAULT.classify(title);
    assert!(
        !persona.relevant,
        "{title:?} should not be relevant: {persona:?}"
    );
    assert_eq!(persona.role, None, "{title:?}");
}

#[test]
#[rustfmt::skip]
fn marketing_sales_and_revenue_operations() {
    check("VP, Demand Gen", "marketing", "vp", Some("economic_buyer"));
    check("VP, Demand Generation", "marketing", "vp", Some("economic_buyer"));
    check("CMO", "marketing", "c_level", Some("economic_buyer"));
    check("Chief Marketing Officer", "marketing", "c_level", Some("economic_buyer"));
    check("EVP, Global Marketing", "marketing", "vp", Some("economic_buyer"));
    check("VP Marketing", "marketing", "vp", Some("economic_buyer"));
    check("Director, Field Marketing", "marketing", "director", Some("decision_maker"));
    check("Director, Digital Marketing", "marketing", "director", Some("decision_maker"));
    check("Head of Growth", "marketing", "director", Some("decision_maker"));
    check("Director of Growth", "marketing", "director", Some("decision_maker"));
    check("Marketing Manager", "marketing", "manager", Some("champion"));
    check("Growth Marketing Manager", "marketing", "manager", Some("champion"));
    check("Growth Marketing Lead", "marketing", "manager", Some("champion"));
    check("Product Marketing Manager", "marketing", "manager", Some("champion"));
    check("Content Marketing Manager", "marketing", "manager", Some("champion"));
    check("ABM Manager", "marketing", "manager", Some("champion"));
    check("Brand Manager", "marketing", "manager", Some("champion"));
    check("Demand Generation Specialist", "marketing", "individual_contributor", Some("user"));
    check("Marketing Coordinator", "marketing", "individual_contributor", Some("user"));
    check("Marketing Analyst", "marketing", "individual_contributor", Some("user"));
    check("Marketing Executive", "marketing", "individual_contributor", Some("user"));
    check("Lead Generation Specialist", "marketing", "individual_contributor", Some("user"));
    check("Social Media Manager", "marketing", "individual_contributor", Some("user"));
    check("Chief Revenue Officer", "sales", "c_level", Some("economic_buyer"));
    check("CRO", "sales", "c_level", Some("economic_buyer"));
    check("SVP Sales", "sales", "vp", Some("economic_buyer"));
    check("VP of Sales", "sales", "vp", Some("economic_buyer"));
    check("VP & Head of Sales", "sales", "vp", Some("economic_buyer"));
    check("V.P. Sales", "sales", "vp", Some("economic_buyer"));
    check("Head of Sales, EMEA", "sales", "director", Some("decision_maker"));
    check("Regional Sales Director", "sales", "director", Some("decision_maker"));
    check("Senior Director, Enterprise Sales", "sales", "director", Some("decision_maker"));
    check("Sales Manager", "sales", "manager", Some("champion"));
    check("BDR Team Lead", "sales", "manager", Some("champion"));
    check("Account Executive", "sales", "individual_contributor", Some("user"));
    check("Senior Account Executive", "sales", "individual_contributor", Some("user"));
    check("Enterprise AE", "sales", "individual_contributor", Some("user"));
    check("Account Manager", "sales", "individual_contributor", Some("user"));
    check("Key Account Manager", "sales", "individual_contributor", Some("user"));
    check("SDR", "sales", "individual_contributor", Some("user"));
    check("Sales Development Representative", "sales", "individual_contributor", Some("user"));
    check("Business Development Manager", "sales", "manager", Some("champion"));
    check("Sales Engineer", "sales", "individual_contributor", Some("user"));
    check("Head of RevOps", "revenue_ops", "director", Some("decision_maker"));
    check("Sr. Dir. of Sales Ops", "revenue_ops", "director", Some("decision_maker"));
    check("Director of Sales Operations", "revenue_ops", "director", Some("decision_maker"));
    check("VP Revenue Operations", "revenue_ops", "vp", Some("economic_buyer"));
    check("Marketing Operations Manager", "revenue_ops", "manager", Some("champion"));
    check("Sr. Manager, Marketing Ops", "revenue_ops", "manager", Some("champion"));
    check("Go-to-Market Operations Lead", "revenue_ops", "manager", Some("champion"));
    check("GTM Ops Manager", "revenue_ops", "manager", Some("champion"));
    check("Sales & Marketing Operations Manager", "revenue_ops", "manager", Some("champion"));
    check("Revenue Operations Analyst", "revenue_ops", "individual_contributor", Some("user"));
    check("Salesforce Administrator", "revenue_ops", "individual_contributor", Some("user"));
    check("Marketing Technology Manager", "revenue_ops", "manager", Some("champion"));
}

#[test]
#[rustfmt::skip]
fn the_executive_office() {
    check("CEO", "executive", "c_level", Some("economic_buyer"));
    check("CEO & Co-Founder", "executive", "c_level", Some("economic_buyer"));
    check("Co-Founder & CEO", "executive", "c_level", Some("economic_buyer"));
    check("Chief Executive Officer", "executive", "c_level", Some("economic_buyer"));
    check("C.E.O.", "executive", "c_level", Some("economic_buyer"));
    check("Founder", "executive", "c_level", Some("economic_buyer"));
    check("Owner", "executive", "c_level", Some("economic_buyer"));
    check("Business Owner", "executive", "c_level", Some("economic_buyer"));
    check("President", "executive", "c_level", Some("economic_buyer"));
    check("President & CEO", "executive", "c_level", Some("economic_buyer"));
    check("Managing Director", "executive", "c_level", Some("economic_buyer"));
    check("MD", "executive", "c_level", Some("economic_buyer"));
    check("Chairman of the Board", "executive", "c_level", Some("economic_buyer"));
    check("Chief Sustainability Officer", "executive", "c_level", Some("economic_buyer"));
    check("General Manager", "executive", "director", Some("decision_maker"));
    check("GM, North America", "executive", "director", Some("decision_maker"));
    check("Executive Director", "executive", "director", Some("decision_maker"));
    check("Founder & Head of Marketing", "marketing", "c_level", Some("economic_buyer"));
    check("President, Sales", "sales", "c_level", Some("economic_buyer"));
    check("Executive Assistant to the CEO", "other", "individual_contributor", None);
    check("Assistant to the President", "other", "individual_contributor", None);
    check("Chief of Staff", "operations", "director", Some("influencer"));
    check("Chief Operating Officer", "operations", "c_level", Some("influencer"));
}

#[test]
#[rustfmt::skip]
fn technical_functions() {
    check("CTO", "engineering", "c_level", Some("decision_maker"));
    check("Chief Technology Officer", "engineering", "c_level", Some("decision_maker"));
    check("CTO & Co-Founder", "engineering", "c_level", Some("decision_maker"));
    check("CIO", "it", "c_level", Some("decision_maker"));
    check("Chief Information Officer", "it", "c_level", Some("decision_maker"));
    check("CISO", "security", "c_level", Some("decision_maker"));
    check("Chief Information Security Officer", "security", "c_level", Some("decision_maker"));
    check("VP of Engineering", "engineering", "vp", Some("technical_evaluator"));
    check("IT Director", "it", "director", Some("technical_evaluator"));
    check("IT Manager", "it", "manager", Some("technical_evaluator"));
    check("I.T. Manager", "it", "manager", Some("technical_evaluator"));
    check("Head of Data", "it", "director", Some("technical_evaluator"));
    check("Engineering Manager", "engineering", "manager", Some("technical_evaluator"));
    check("Software Engineer", "engineering", "individual_contributor", Some("technical_evaluator"));
    check("Staff Engineer", "engineering", "individual_contributor", Some("technical_evaluator"));
    check("Principal Software Engineer", "engineering", "individual_contributor", Some("technical_evaluator"));
    check("Senior Data Engineer", "engineering", "individual_contributor", Some("technical_evaluator"));
    check("Data Scientist", "engineering", "individual_contributor", Some("technical_evaluator"));
    check("VP, R&D", "engineering", "vp", Some("technical_evaluator"));
    check("Research and Development Director", "engineering", "director", Some("technical_evaluator"));
    check("Business Intelligence Analyst", "it", "individual_contributor", Some("technical_evaluator"));
    check("Systems Administrator", "it", "individual_contributor", Some("technical_evaluator"));
    check("Security Engineer", "security", "individual_contributor", Some("technical_evaluator"));
    check("Director, IT Security", "security", "director", Some("technical_evaluator"));
}

#[test]
#[rustfmt::skip]
fn procurement_legal_finance() {
    check("Procurement Manager", "procurement", "manager", Some("procurement"));
    check("Procurement Specialist", "procurement", "individual_contributor", Some("procurement"));
    check("Purchasing Agent", "procurement", "individual_contributor", Some("procurement"));
    check("Sourcing Lead", "procurement", "manager", Some("procurement"));
    check("Chief Procurement Officer", "procurement", "c_level", Some("procurement"));
    check("Director of IT Procurement", "procurement", "director", Some("procurement"));
    check("Head of IT Procurement", "procurement", "director", Some("procurement"));
    check("IT Buyer", "procurement", "individual_contributor", Some("procurement"));
    check("Category Manager", "procurement", "manager", Some("procurement"));
    check("General Counsel", "legal", "c_level", Some("blocker"));
    check("Associate General Counsel", "legal", "director", Some("blocker"));
    check("Legal Counsel", "legal", "individual_contributor", Some("blocker"));
    check("Compliance Officer", "legal", "individual_contributor", Some("blocker"));
    check("CFO", "finance", "c_level", Some("economic_buyer"));
    check("Chief Financial Officer", "finance", "c_level", Some("economic_buyer"));
    check("VP Finance", "finance", "vp", Some("economic_buyer"));
    check("Finance Manager", "finance", "manager", Some("influencer"));
    check("Financial Analyst", "finance", "individual_contributor", Some("influencer"));
    check("Controller", "finance", "individual_contributor", Some("influencer"));
    check("FP&A Manager", "finance", "manager", Some("influencer"));
}

#[test]
#[rustfmt::skip]
fn other_functions() {
    check("Product Manager", "product", "individual_contributor", None);
    check("Senior Product Manager", "product", "individual_contributor", None);
    check("VP Product", "product", "vp", Some("influencer"));
    check("Director of Product Management", "product", "director", Some("influencer"));
    check("Product Owner", "product", "individual_contributor", None);
    check("Customer Success Manager", "customer_success", "individual_contributor", None);
    check("VP Customer Success", "customer_success", "vp", Some("influencer"));
    check("HR Generalist", "human_resources", "individual_contributor", None);
    check("HR Business Partner", "human_resources", "individual_contributor", None);
    check("Learning & Development Manager", "human_resources", "manager", None);
    check("Chief People Officer", "human_resources", "c_level", Some("influencer"));
    check("Operations Director", "operations", "director", Some("influencer"));
    check("Office Manager", "operations", "individual_contributor", None);
    check("Project Manager", "operations", "individual_contributor", None);
    check("Consultant", "other", "individual_contributor", None);
    check("Director of Strategy", "other", "director", Some("influencer"));
}

#[test]
#[rustfmt::skip]
fn titles_in_other_languages() {
    check("Directeur Marketing", "marketing", "director", Some("decision_maker"));
    check("Directrice Commerciale", "sales", "director", Some("decision_maker"));
    check("Responsable des achats", "procurement", "manager", Some("procurement"));
    check("Responsable Marketing Digital", "marketing", "manager", Some("champion"));
    check("Chef de Projet CRM", "revenue_ops", "manager", Some("champion"));
    check("Directeur Général", "executive", "c_level", Some("economic_buyer"));
    check("Directeur des Systèmes d'Information", "it", "director", Some("technical_evaluator"));
    check("Leiter Vertrieb", "sales", "director", Some("decision_maker"));
    check("Leiterin Marketing", "marketing", "director", Some("decision_maker"));
    check("Vertriebsleiter DACH", "sales", "director", Some("decision_maker"));
    check("Einkaufsleiter", "procurement", "director", Some("procurement"));
    check("Leiter Einkauf", "procurement", "director", Some("procurement"));
    check("Personalleiterin", "human_resources", "director", Some("influencer"));
    check("Referentin Marketing", "marketing", "individual_contributor", Some("user"));
    check("Geschäftsführer", "executive", "c_level", Some("economic_buyer"));
    check("Geschaeftsfuehrerin", "executive", "c_level", Some("economic_buyer"));
    check("GESCHÄFTSFÜHRER", "executive", "c_level", Some("economic_buyer"));
    check("Vorstand Vertrieb", "sales", "c_level", Some("economic_buyer"));
    check("Abteilungsleiter IT", "it", "director", Some("technical_evaluator"));
    check("Gerente de Ventas", "sales", "manager", Some("champion"));
    check("Gerente de Marketing", "marketing", "manager", Some("champion"));
    check("Jefe de Compras", "procurement", "manager", Some("procurement"));
    check("Jefe de TI", "it", "manager", Some("technical_evaluator"));
    check("Directora de Mercadotecnia", "marketing", "director", Some("decision_maker"));
    check("Director Comercial", "sales", "director", Some("decision_maker"));
    check("Diretor Comercial", "sales", "director", Some("decision_maker"));
    check("Analista de Marketing", "marketing", "individual_contributor", Some("user"));
    check("Direttore Vendite", "sales", "director", Some("decision_maker"));
    check("Responsabile Acquisti", "procurement", "manager", Some("procurement"));
    check("Hoofd Verkoop", "sales", "director", Some("decision_maker"));
    check("Marknadschef", "marketing", "director", Some("decision_maker"));
    check("Försäljningschef", "sales", "director", Some("decision_maker"));
    check("VD", "executive", "c_level", Some("economic_buyer"));
    // Decomposed accents (e + U+0301) read like composed ones.
    check("Directeur Ge\u{301}ne\u{301}ral", "executive", "c_level", Some("economic_buyer"));
}

#[test]
#[rustfmt::skip]
fn occupations_that_never_buy() {
    irrelevant("Registered Nurse");
    irrelevant("Recruiter");
    irrelevant("Senior Recruiter");
    irrelevant("Talent Acquisition Partner");
    irrelevant("Student");
    irrelevant("Marketing Intern");
    irrelevant("High School Teacher");
    irrelevant("Professor of Economics");
    irrelevant("Truck Driver");
    irrelevant("Cashier");
    irrelevant("Head Chef");
    irrelevant("Retired");
    irrelevant("Retired CEO");
    irrelevant("Volunteer");
    irrelevant("Physician");
    irrelevant("Praktikant Vertrieb");
    irrelevant("Stagiaire Marketing");
    assert_eq!(
        DEFAULT.classify("Recruiter").function,
        Some(Function::HumanResources)
    );
    // "chef de" is a French manager, not a cook.
    check("Chef de Produit", "product", "manager", None);
}

#[test]
#[rustfmt::skip]
fn unknown_and_empty_titles() {
    for title in ["", "   ", "---", "Ninja", "Rockstar", "株式会社 部長", "??"] {
        check(title, "-", "individual_contributor", None);
    }
    check("Directeur", "-", "director", None);
    // What follows "to", "at", "chez" or "@" is someone else or the company.
    check("Head of Sales at Marketing Corp", "sales", "director", Some("decision_maker"));
    check("Sales Manager @ Acme Procurement", "sales", "manager", Some("champion"));
    check("Directeur Marketing chez Achats SA", "marketing", "director", Some("decision_maker"));
    check("AT&T Account Manager", "sales", "individual_contributor", Some("user"));
}

#[test]
#[rustfmt::skip]
fn the_teams_keywords_win() {
    let mut config = PersonaConfig::default();
    config
        .functions
        .insert("Pipeline Wrangler".into(), Function::RevenueOps);
    config.functions.insert("growth".into(), Function::Sales);
    config.functions.insert("CSO".into(), Function::Sales);
    config.functions.insert("sales".into(), Function::Marketing);
    config.irrelevant.push("Astronaut".into());
    config.irrelevant.push("solutions consultant".into());
    let dictionary = TitleDictionary::new(&config);
    check_with(&dictionary, "Chief Pipeline Wrangler", "revenue_ops", "c_level", Some("economic_buyer"));
    check_with(&dictionary, "Pipeline Wrangler", "revenue_ops", "individual_contributor", Some("user"));
    check_with(&dictionary, "Head of Growth", "sales", "director", Some("decision_maker"));
    check_with(&dictionary, "Growth Marketing Manager", "sales", "manager", Some("champion"));
    // A custom keyword keeps the built-in seniority of the same word.
    check_with(&dictionary, "CSO", "sales", "c_level", Some("economic_buyer"));
    // It wins even over a longer built-in phrase.
    check_with(&dictionary, "Sales Operations Manager", "marketing", "manager", Some("champion"));
    let astronaut = dictionary.classify("Senior Astronaut");
    assert!(!astronaut.relevant);
    assert!(!dictionary.classify("Solutions Consultant").relevant);
    assert!(DEFAULT.classify("Solutions Consultant").relevant);
}

#[test]
#[rustfmt::skip]
fn buying_functions_change_roles() {
    let config = PersonaConfig {
        buying_functions: vec![Function::It, Function::Security],
        ..PersonaConfig::default()
    };
    let dictionary = TitleDictionary::new(&config);
    check_with(&dictionary, "IT Manager", "it", "manager", Some("champion"));
    check_with(&dictionary, "CISO", "security", "c_level", Some("economic_buyer"));
    check_with(&dictionary, "Director, IT Security", "security", "director", Some("decision_maker"));
    check_with(&dictionary, "Systems Administrator", "it", "individual_contributor", Some("user"));
    // Engineering stays technical; marketing is now just another function.
    check_with(&dictionary, "Software Engineer", "engineering", "individual_contributor", Some("technical_evaluator"));
    check_with(&dictionary, "VP Marketing", "marketing", "vp", Some("influencer"));
    check_with(&dictionary, "Marketing Manager", "marketing", "manager", None);
    // Procurement and legal keep their roles whatever is sold.
    check_with(&dictionary, "Procurement Manager", "procurement", "manager", Some("procurement"));
    check_with(&dictionary, "General Counsel", "legal", "c_level", Some("blocker"));
}

#[test]
fn buying_group_counts_expected_roles() {
    use BuyingRole as R;
    let config = PersonaConfig::default();
    let group = buying_group(
        &config,
        [
            (Some(R::EconomicBuyer), false),
            (Some(R::Champion), true),
            (Some(R::Champion), false),
            (Some(R::User), true),
            (Some(R::Influencer), true),
            (Some(R::Blocker), false),
            (None, true),
        ],
    );
    let champion = group.roles[R::ALL
        .iter()
        .position(|r| *r == R::Champion)
        .expect("listed")];
    assert_eq!(
        champion,
        RoleCoverage {
            role: R::Champion,
            known: 2,
            engaged: 1,
            expected: true
        }
    );
    assert_eq!(
        group
            .roles
            .iter()
            .map(|coverage| coverage.role)
            .collect::<Vec<_>>(),
        R::ALL.to_vec()
    );
    let influencer = group.roles[R::ALL
        .iter()
        .position(|r| *r == R::Influencer)
        .expect("listed")];
    assert_eq!((influencer.known, influencer.expected), (1, false));
    // Six expected roles: economic buyer, champion and user are known (3/6); champion and
    // user are engaged (2/6). Influencer and blocker do not count.
    assert!((group.known_share - 0.5).abs() < 1e-12);
    assert!((group.engaged_share - 2.0 / 6.0).abs() < 1e-12);
    assert_eq!(
        group.missing,
        vec![R::DecisionMaker, R::TechnicalEvaluator, R::Procurement]
    );

    let empty = buying_group(&config, []);
    assert_eq!(empty.known_share, 0.0);
    assert_eq!(empty.missing.len(), config.expected_roles.len());

    let nothing_expected = PersonaConfig {
        expected_roles: Vec::new(),
        ..PersonaConfig::default()
    };
    let group = buying_group(&nothing_expected, [(Some(R::Champion), true)]);
    assert_eq!((group.known_share, group.engaged_share), (0.0, 0.0));
    assert!(group.missing.is_empty());
}

#[test]
fn buying_group_from_titles() {
    let titles = [
        ("CMO", true),
        ("Marketing Operations Manager", true),
        ("Registered Nurse", true),
        ("Procurement Specialist", false),
    ];
    let members = titles.iter().map(|(title, engaged)| {
        let persona = DEFAULT.classify(title);
        (persona.role.filter(|_| persona.relevant), *engaged)
    });
    let group = buying_group(&PersonaConfig::default(), members);
    assert_eq!(
        group.missing,
        vec![
            BuyingRole::DecisionMaker,
            BuyingRole::TechnicalEvaluator,
            BuyingRole::User
        ]
    );
    assert!((group.engaged_share - 2.0 / 6.0).abs() < 1e-12);
}

#[test]
fn keys_round_trip() {
    for function in Function::ALL {
        assert_eq!(Function::from_key(function.as_str()), Some(function));
        let json = toml::Value::try_from(function).expect("serialises");
        assert_eq!(json.as_str(), Some(function.as_str()));
    }
    for seniority in Seniority::ALL {
        assert_eq!(Seniority::from_key(seniority.as_str()), Some(seniority));
        let value = toml::Value::try_from(seniority).expect("serialises");
        assert_eq!(value.as_str(), Some(seniority.as_str()));
    }
    for role in BuyingRole::ALL {
        assert_eq!(BuyingRole::from_key(role.as_str()), Some(role));
        let value = toml::Value::try_from(role).expect("serialises");
        assert_eq!(value.as_str(), Some(role.as_str()));
    }
    assert_eq!(BuyingRole::EconomicBuyer.label(), "economic buyer");
    assert_eq!(Function::from_key("Marketing"), None);
    let ranks: Vec<u8> = Seniority::ALL.iter().map(|s| s.rank()).collect();
    assert_eq!(ranks, [4, 3, 2, 1, 0]);
    assert!(Seniority::Director.is_senior() && !Seniority::Manager.is_senior());
}

#[test]
fn config_round_trips_through_toml() {
    let default = PersonaConfig::default();
    let text = toml::to_string(&default).expect("serialises");
    let back: PersonaConfig = toml::from_str(&text).expect("parses");
    assert_eq!(back, default);
    let empty: PersonaConfig = toml::from_str("").expect("parses");
    assert_eq!(empty, default);

    let custom: PersonaConfig = toml::from_str(
        r#"
        buying_functions = ["it", "security"]
        engaged_days = 14
        irrelevant = ["astronaut"]
        [functions]
        growth = "sales"
        "pipeline wrangler" = "revenue_ops"
        "#,
    )
    .expect("parses");
    assert_eq!(custom.buying_functions, [Function::It, Function::Security]);
    assert_eq!(custom.engaged_days.get(), 14);
    assert_eq!(custom.functions.get("growth"), Some(&Function::Sales));
    assert_eq!(custom.technical_functions, default.technical_functions);
}

#[test]
fn config_rejects_unknown_keys_and_values() {
    let unknown =
        toml::from_str::<PersonaConfig>("buying_function = [\"it\"]").expect_err("an unknown key");
    assert!(unknown.to_string().contains("buying_function"), "{unknown}");
    let function = toml::from_str::<PersonaConfig>("buying_functions = [\"magic\"]")
        .expect_err("an unknown function");
    assert!(function.to_string().contains("magic"), "{function}");
    assert!(toml::from_str::<PersonaConfig>("engaged_days = 0").is_err());
}

/// Every built-in phrase is written as the normaliser produces it, so it can match; no two
/// tables disagree about a phrase.
#[test]
fn dictionary_is_canonical_and_consistent() {
    let normalizer = Normalizer::new(titles::ABBREVIATIONS);
    let mut phrases: Vec<(&str, Option<Function>, Option<Seniority>)> = Vec::new();
    for (function, words) in titles::FUNCTIONS {
        phrases.extend(words.iter().map(|word| (*word, Some(*function), None)));
    }
    for (seniority, words) in titles::SENIORITIES {
        phrases.extend(words.iter().map(|word| (*word, None, Some(*seniority))));
    }
    for (word, function, seniority) in titles::TITLES {
        phrases.push((word, Some(*function), Some(*seniority)));
    }
    phrases.extend(titles::IRRELEVANT.iter().map(|word| (*word, None, None)));
    let mut seen: HashMap<&str, (Option<Function>, Option<Seniority>)> = HashMap::new();
    let mut problems = Vec::new();
    for (phrase, function, seniority) in phrases {
        let canonical = normalizer.tokens(phrase).text;
        if canonical != phrase {
            problems.push(format!("{phrase:?} reads as {canonical:?}"));
        }
        let known = seen.entry(phrase).or_insert((function, seniority));
        let merged = (known.0.or(function), known.1.or(seniority));
        if function.is_some_and(|f| merged.0 != Some(f))
            || seniority.is_some_and(|s| merged.1 != Some(s))
        {
            problems.push(format!("{phrase:?} is given two meanings"));
        }
        *known = merged;
    }
    for (stem, _) in titles::COMPOUND_STEMS {
        if normalizer.tokens(stem).text != *stem {
            problems.push(format!("stem {stem:?} is not canonical"));
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

proptest! {
    #[test]
    fn classify_never_panics(title in any::<String>()) {
        let persona = DEFAULT.classify(&title);
        prop_assert!(persona.relevant || persona.role.is_none());
    }

    #[test]
    fn classify_never_panics_on_title_like_text(
        title in "[A-Za-zÀ-ÿ&/.,@()' -]{0,60}"
    ) {
        let persona = DEFAULT.classify(&title);
        prop_assert!(persona.relevant || persona.role.is_none());
        // Case never matters.
        prop_assert_eq!(DEFAULT.classify(&title.to_uppercase()), persona.clone());
        prop_assert_eq!(DEFAULT.classify(&title.to_lowercase()), persona);
    }
}
