-- One row per Federal Register document, with every registered term that found it.
with terms as (
    select
        document_id,
        list(term order by term) as terms
    from {{ ref('stg_regulatory__document_terms') }}
    group by document_id
)

select
    documents.source,
    documents.document_id,
    documents.published_date,
    documents.title,
    documents.doc_type,
    documents.url,
    documents.agencies,
    terms.terms,
    terms.terms[1] as term
from {{ ref('stg_regulatory__documents') }} as documents
left join terms on terms.document_id = documents.document_id
