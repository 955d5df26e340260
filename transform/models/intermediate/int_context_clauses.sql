{{ config(materialized='table') }}
-- What each source's signals add to a prediction's evidence, per window: one clause per source (interest against
-- the year before, summed stars and price returns inside the window, documents and stories against the year
-- before, and AI Pulse's own check pass rate where the registry asks for it). A headline kind takes the clauses of
-- every source but its own (macros/headlines/headline_frame.sql).
with settings as (
    select * from {{ ref('stg_registry__settings') }}
),

windows as (
    select * from {{ ref('int_prediction_windows') }}
),

baskets as (
    select * from {{ ref('int_baskets') }}
),

members as (
    select * from baskets where role = 'member'
),

interest as {{ member_clause('trends', 1, "'combined mean daily Wikipedia views'", 'windows.vs_phrase',
    label_one="'mean daily Wikipedia views'", measure='yoy') }},

stars as {{ member_clause('github', 2, "coalesce('summed stars of the ' || windows.repo_group, 'summed stars')",
    'windows.over_phrase', label_one="'stars'") }},

documents as {{ member_clause('regulatory', 3, "'Federal Register documents'", 'windows.vs_phrase',
    label_one="'Federal Register documents matching \"{}\"'") }},

stories as {{ member_clause('news', 4, "'Hacker News stories'", 'windows.vs_phrase',
    label_one="'Hacker News stories matching \"{}\"'") }},

prices as (
    select windows.prediction_id, windows."window", 'stocks' as source, 5 as position,
        case
            when stock.is_sufficient and benchmark.is_sufficient then format(
                '{} {:+.1f}% vs benchmark {} {:+.1f}% {}', stock.signals, stock.mean_change_pct,
                benchmark.signals, benchmark.mean_change_pct, windows.over_phrase)
            else {{ basket_sentence('stock', "'mean price return'", 'windows.over_phrase',
                label_one="'price return'", value='mean_change_pct') }}
        end as clause,
        stock.input_signals || case when stock.is_sufficient and benchmark.is_sufficient
            then benchmark.input_signals else [] end as input_signals
    from windows
    cross join settings
    inner join members as stock
        on stock.prediction_id = windows.prediction_id and stock."window" = windows."window" and stock.source = 'stocks'
    left join baskets as benchmark
        on benchmark.prediction_id = windows.prediction_id and benchmark."window" = windows."window"
        and benchmark.source = 'stocks' and benchmark.role = 'benchmark'
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

own_checks as (
    select windows.prediction_id, windows."window", 'quality' as source, 6 as position,
        case
            when checks.checked > 0 then format(
                'AI Pulse''s own latest quality checks passed {:,} of {:,} expectations ({:.1f}%) in {} suites, '
                || 'with {} blocking failures recorded since {}', checks.passed, checks.checked,
                100.0 * checks.passed / checks.checked, checks.suites, checks.blocking_failures, checks.since)
            else 'AI Pulse''s own quality-check history (quality.check_results) does not exist yet'
        end as clause,
        cast([] as varchar[]) as input_signals
    from windows
    cross join checks
    where windows.own_quality_checks
)

select * from interest
union all
select * from stars
union all
select * from documents
union all
select * from stories
union all
select * from prices
union all
select * from own_checks
