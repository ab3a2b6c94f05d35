//! Surveys (questionari), the pure part: a definition of sections and questions and the checks it
//! must pass; the answers a person sends, checked against it (a draft may be partial, a sent
//! answer must be complete); and the results computed from every sent answer.
//!
//! Nothing here knows where answers are stored or how they arrive: the store keeps the checked
//! answers as JSON, the API and the site only carry them.

mod answers;
mod assessment;
mod definition;
mod results;

pub use answers::{Answers, Completeness, check_answers};
pub use assessment::{AreaDef, AreaScore, AssessmentDef, Level, profile};
pub use definition::{
    Audience, Choice, Condition, Question, QuestionKind, ResultsVisibility, Section, Survey, SurveyDef, SurveySlug,
    SurveyState,
};
pub use results::{Body, Breakdown, ChoiceCount, Group, QuestionResult, Results, RowResult, Stats, it_number, tally};
