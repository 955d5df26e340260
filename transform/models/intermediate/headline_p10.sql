-- P10 headline: the change in mean daily interest in the data-quality articles, prediction year vs baseline
-- year. The evidence adds the data-quality tools' star growth and AI Pulse's own quality-check pass rate, from
-- quality.check_results (or says that history does not exist yet).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

interest as (
    select * from {{ basket('P10', 'trends', 'settings.baseline_year', 'settings.prediction_year') }}
    where role = 'member'
),

stars as (
    select * from {{ basket('P10', 'github', 'settings.prediction_year') }}
    where role = 'member'
),

-- The latest validation of every suite (so re-running the same data quotes the same numbers), and the blocking
-- failures the whole history holds.
history as (
    select * from {{ ref('stg_quality__check_results') }}
),

latest as (
    select * from history
    qualify checked_at = max(checked_at) over (partition by asset, suite)
),

checks as (
    select
        (select count(distinct (asset, suite)) from latest) as suites,
        (select count(*) from latest) as checked,
        (select count(*) filter (where success) from latest) as passed,
        (select count(*) filter (where blocking and not success) from history) as blocking_failures,
        (select min(checked_date) from history) as since
),

judged as (
    select
        interest.total_change_pct as headline_value,
        coalesce(interest.is_sufficient, false) as is_sufficient,
        concat_ws('; ',
            {{ basket_sentence('interest', "'Combined mean daily Wikipedia views'",
                "format('in {} vs {}', settings.prediction_year, settings.baseline_year)",
                label_one="'mean daily Wikipedia views'") }},
            case when stars.role is not null then {{ basket_sentence('stars', "'summed stars of the data-quality tools'",
                "format('over {}', settings.prediction_year)", label_one="'stars'") }} end,
            case
                when checks.checked > 0 then format(
                    'AI Pulse''s own latest quality checks passed {:,} of {:,} expectations ({:.1f}%) in {} suites, '
                    || 'with {} blocking failures recorded since {}', checks.passed, checks.checked,
                    100.0 * checks.passed / checks.checked, checks.suites, checks.blocking_failures, checks.since)
                else 'AI Pulse''s own quality-check history (quality.check_results) does not exist yet'
            end
        ) as clauses,
        coalesce(interest.input_signals, []) || coalesce(stars.input_signals, []) as input_signals
    from settings
    cross join checks
    left join interest on true
    left join stars on true
)

select
    'P10' as prediction_id,
    headline_value,
    is_sufficient,
    {{ as_sentence('clauses') }} as evidence,
    input_signals
from judged
