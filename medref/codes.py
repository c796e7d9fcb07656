"""The finding codes: one per rule, stable (never renamed or reused), listed in the README."""

from __future__ import annotations

CODES: dict[str, tuple[str, str, str]] = {
    # code: (category, usual severity, meaning)
    "MR001": ("unparseable", "warning",
              "A line could not be read, or holds an impossible value (q0h, a negative dose); "
              "nothing on it was checked."),
    "MR002": ("unknown-item", "warning", "The name matches no entry, alias or recognised agent."),
    "MR003": ("unverifiable", "warning", "The line has no dose, so no dose or daily limit was "
              "checked."),
    "MR004": ("unverifiable", "warning", "No limit on file: a therapy with no dose to check, a "
              "screening-only agent, no labeled daily maximum, or no upper intake level."),
    "MR005": ("unverifiable", "warning", "The dose unit cannot be compared with the limits "
              "(e.g. tablets without a strength, mL for a mg limit)."),
    "MR006": ("unverifiable", "warning", "No frequency, so the worst-case daily total was not "
              "checked (the single dose was)."),
    "MR007": ("unparseable", "warning", "Part of a line was not understood; the rest was "
              "checked."),
    "MR008": ("duplicate-therapy", "warning", "The same line appears more than once; each copy "
              "is counted in the totals."),
    "MR009": ("duplicate-therapy", "warning", "One product on several lines written "
              "differently (brand and generic, scheduled and PRN, two routes): confirm each "
              "is intended; amounts are summed where a limit covers them."),
    "MR101": ("dose-high", "error", "A single dose exceeds the labeled maximum per dose."),
    "MR102": ("daily-max", "error", "The worst-case total per day, week, month or year exceeds "
              "the labeled maximum."),
    "MR103": ("daily-max", "error", "More administrations per day than the label allows."),
    "MR104": ("dose-low", "info", "The dose is below the seed's typical range."),
    "MR105": ("dose-high", "info", "The dose is above the seed's typical range but within the "
              "labeled limits."),
    "MR106": ("daily-max", "info", "Above a labeled alternative maximum that depends on "
              "indication or formulation (e.g. OTC labeling, DPN)."),
    "MR107": ("daily-max", "error", "Above a maximum adjusted for the patient context (age, "
              "CrCl, hepatic impairment)."),
    "MR201": ("bone-healing", "info|warning|error", "A bone-healing concern, raised one "
              "severity for a high dose or inside the early healing window (NSAIDs)."),
    "MR301": ("daily-max", "error", "The same ingredient on several lines sums above the "
              "labeled maximum; each line's contribution is listed."),
    "MR302": ("duplicate-therapy", "warning|error", "Duplicate therapy by class (rule in "
              "interactions.json)."),
    "MR303": ("interaction", "info|warning|error", "An interaction among listed agents (rule in "
              "interactions.json)."),
    "MR304": ("administration", "info|warning", "An administration-timing rule (rule in "
              "interactions.json)."),
    "MR305": ("opioid-mme", "warning", "Total opioid MME/day at or above the warning threshold "
              "(50)."),
    "MR306": ("opioid-mme", "error", "Total opioid MME/day at or above the high threshold (90)."),
    "MR307": ("unverifiable", "warning", "MME/day could not be computed for an opioid line "
              "(non-oral route, no dose or frequency)."),
    "MR401": ("upper-limit", "warning", "A supplement's daily amount exceeds its Tolerable Upper "
              "Intake Level (age band from --age)."),
    "MR501": ("duration", "error|warning", "A stated duration exceeds the labeled limit "
              "(ketorolac 5 days, cyclobenzaprine 2-3 weeks, PTH analogs 2 years)."),
    "MR502": ("duration", "error", "A course exceeds its labeled number of administrations "
              "(romosozumab 12 doses)."),
    "MR601": ("interaction", "warning|error", "A drug-condition rule fired for the patient "
              "context (e.g. zoledronic acid with CrCl below 35)."),
    "MR602": ("unverifiable", "info", "A rule needed a context value that was not given "
              "(reported once per value)."),
}
