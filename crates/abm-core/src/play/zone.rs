//! Countries as CRMs write them ("United States", "USA", "us", "Deutschland") to an ISO code
//! and a representative time zone, for the guard's privacy regime and quiet hours. A country
//! that spans zones gets its business capital's; a contact's own `time_zone` attribute, when
//! the CRM has one, wins over this guess (the engine reads it).

/// (ISO code, other names, IANA zone).
#[rustfmt::skip]
const COUNTRIES: &[(&str, &[&str], &str)] = &[
    ("US", &["united states", "united states of america", "usa", "u.s.", "u.s.a.", "america"], "America/New_York"),
    ("CA", &["canada"], "America/Toronto"),
    ("MX", &["mexico", "méxico"], "America/Mexico_City"),
    ("BR", &["brazil", "brasil"], "America/Sao_Paulo"),
    ("AR", &["argentina"], "America/Argentina/Buenos_Aires"),
    ("CL", &["chile"], "America/Santiago"),
    ("CO", &["colombia"], "America/Bogota"),
    ("GB", &["united kingdom", "uk", "great britain", "england", "scotland", "wales", "northern ireland"], "Europe/London"),
    ("IE", &["ireland", "éire"], "Europe/Dublin"),
    ("DE", &["germany", "deutschland"], "Europe/Berlin"),
    ("FR", &["france"], "Europe/Paris"),
    ("NL", &["netherlands", "the netherlands", "holland", "nederland"], "Europe/Amsterdam"),
    ("BE", &["belgium", "belgique", "belgië"], "Europe/Brussels"),
    ("LU", &["luxembourg"], "Europe/Luxembourg"),
    ("CH", &["switzerland", "schweiz", "suisse"], "Europe/Zurich"),
    ("AT", &["austria", "österreich"], "Europe/Vienna"),
    ("ES", &["spain", "españa"], "Europe/Madrid"),
    ("PT", &["portugal"], "Europe/Lisbon"),
    ("IT", &["italy", "italia"], "Europe/Rome"),
    ("SE", &["sweden", "sverige"], "Europe/Stockholm"),
    ("NO", &["norway", "norge"], "Europe/Oslo"),
    ("DK", &["denmark", "danmark"], "Europe/Copenhagen"),
    ("FI", &["finland", "suomi"], "Europe/Helsinki"),
    ("IS", &["iceland"], "Atlantic/Reykjavik"),
    ("PL", &["poland", "polska"], "Europe/Warsaw"),
    ("CZ", &["czech republic", "czechia"], "Europe/Prague"),
    ("SK", &["slovakia"], "Europe/Bratislava"),
    ("HU", &["hungary"], "Europe/Budapest"),
    ("RO", &["romania"], "Europe/Bucharest"),
    ("BG", &["bulgaria"], "Europe/Sofia"),
    ("GR", &["greece"], "Europe/Athens"),
    ("HR", &["croatia"], "Europe/Zagreb"),
    ("SI", &["slovenia"], "Europe/Ljubljana"),
    ("EE", &["estonia"], "Europe/Tallinn"),
    ("LV", &["latvia"], "Europe/Riga"),
    ("LT", &["lithuania"], "Europe/Vilnius"),
    ("CY", &["cyprus"], "Asia/Nicosia"),
    ("MT", &["malta"], "Europe/Malta"),
    ("LI", &["liechtenstein"], "Europe/Vaduz"),
    ("IL", &["israel"], "Asia/Jerusalem"),
    ("AE", &["united arab emirates", "uae"], "Asia/Dubai"),
    ("SA", &["saudi arabia"], "Asia/Riyadh"),
    ("ZA", &["south africa"], "Africa/Johannesburg"),
    ("NG", &["nigeria"], "Africa/Lagos"),
    ("KE", &["kenya"], "Africa/Nairobi"),
    ("IN", &["india"], "Asia/Kolkata"),
    ("SG", &["singapore"], "Asia/Singapore"),
    ("JP", &["japan"], "Asia/Tokyo"),
    ("KR", &["south korea", "korea", "republic of korea"], "Asia/Seoul"),
    ("CN", &["china"], "Asia/Shanghai"),
    ("HK", &["hong kong"], "Asia/Hong_Kong"),
    ("TW", &["taiwan"], "Asia/Taipei"),
    ("AU", &["australia"], "Australia/Sydney"),
    ("NZ", &["new zealand"], "Pacific/Auckland"),
];

/// The ISO code of a country written as a code or a name, any case.
pub fn country_code(country: &str) -> Option<&'static str> {
    let key = country.trim().to_lowercase();
    COUNTRIES
        .iter()
        .find(|(code, names, _)| code.eq_ignore_ascii_case(&key) || names.contains(&key.as_str()))
        .map(|(code, _, _)| *code)
}

/// A representative IANA zone for a country.
pub fn zone_name(country: &str) -> Option<&'static str> {
    let code = country_code(country)?;
    COUNTRIES
        .iter()
        .find(|(known, _, _)| *known == code)
        .map(|(_, _, zone)| *zone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn countries_are_read_as_crms_write_them() {
        assert_eq!(country_code("United States"), Some("US"));
        assert_eq!(country_code(" usa "), Some("US"));
        assert_eq!(country_code("de"), Some("DE"));
        assert_eq!(country_code("Deutschland"), Some("DE"));
        assert_eq!(country_code("Atlantis"), None);
        assert_eq!(zone_name("United Kingdom"), Some("Europe/London"));
        assert_eq!(zone_name("Canada"), Some("America/Toronto"));
    }

    #[test]
    fn every_code_is_unique() {
        let mut codes: Vec<_> = COUNTRIES.iter().map(|(code, _, _)| *code).collect();
        codes.sort_unstable();
        let before = codes.len();
        codes.dedup();
        assert_eq!(codes.len(), before);
    }
}
