#include "codec/sealer.h"

#include <vector>

namespace duurzaam::codec {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool IsSealed(const FieldDescriptor* field) { return field->options().GetExtension(v1::sealed); }

}  // namespace

bool HasSealed(const Message& message) {
  std::vector<const FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (IsSealed(field)) return true;
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    const google::protobuf::Reflection* reflection = message.GetReflection();
    if (field->is_repeated()) {
      for (int k = 0; k < reflection->FieldSize(message, field); ++k) {
        if (HasSealed(reflection->GetRepeatedMessage(message, field, k))) return true;
      }
    } else if (HasSealed(reflection->GetMessage(message, field))) {
      return true;
    }
  }
  return false;
}

int ClearSealed(Message* message) {
  int cleared = 0;
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  const google::protobuf::Reflection* reflection = message->GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (IsSealed(field)) {
      if (field->is_repeated() ? reflection->FieldSize(*message, field) > 0
                               : reflection->HasField(*message, field)) {
        reflection->ClearField(message, field);
        ++cleared;
      }
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (field->is_repeated()) {
      for (int k = 0; k < reflection->FieldSize(*message, field); ++k) {
        cleared += ClearSealed(reflection->MutableRepeatedMessage(message, field, k));
      }
    } else if (reflection->HasField(*message, field)) {
      cleared += ClearSealed(reflection->MutableMessage(message, field));
    }
  }
  return cleared;
}

}  // namespace duurzaam::codec
